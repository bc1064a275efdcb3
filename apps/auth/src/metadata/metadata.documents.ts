import { BASE_SCOPE, type GatewayTopology, type ResolvedService } from '@gateway/catalog';
import { GRANT_TYPES, RESPONSE_TYPES, SUPPORTED_SCOPES, TOKEN_ENDPOINT_AUTH_METHODS } from '@gateway/oauth';
import { ASSERTION_ALGORITHMS } from '../clients/client-assertion';
import { ENDPOINT_PATHS } from '../http/endpoints';
import { serviceIssuer } from './service-issuer';

const AUTH_METHODS = [...TOKEN_ENDPOINT_AUTH_METHODS, 'private_key_jwt'];

/** What the deployment turned on (AuthEnv). */
export interface MetadataFeatures {
  readonly clientIdMetadataDocuments: boolean;
}

/**
 * RFC 8414 §2 authorization-server metadata: only what this server really serves. A per-service issuer
 * (`serviceIssuer`) has its own authorization and token endpoints under its path, which default `resource`
 * to its service; registration, revocation, introspection and keys are shared with the gateway issuer
 * (`shared`), since RFC 8414 §2 puts no endpoint under the issuer's path.
 */
export function authorizationServerMetadata(
  issuer: string,
  shared: string = issuer,
  features: MetadataFeatures = { clientIdMetadataDocuments: true },
): Record<string, unknown> {
  const at = (path: string): string => `${shared}${path}`;
  return {
    // RFC 8414 §3.3: byte-identical to the issuer the client derived the well-known URL from.
    issuer,
    authorization_endpoint: `${issuer}${ENDPOINT_PATHS.authorization}`,
    token_endpoint: `${issuer}${ENDPOINT_PATHS.token}`,
    registration_endpoint: at(ENDPOINT_PATHS.registration),
    revocation_endpoint: at(ENDPOINT_PATHS.revocation),
    introspection_endpoint: at(ENDPOINT_PATHS.introspection),
    jwks_uri: at(ENDPOINT_PATHS.jwks),
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: [...RESPONSE_TYPES],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES],
    // OAuth 2.1 / MCP authorization: PKCE with S256 only; clients refuse an AS that omits this.
    code_challenge_methods_supported: ['S256'],
    // RFC 7523 §2.2: private_key_jwt for clients whose metadata document publishes keys (docs/auth.md).
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    // RFC 9207: /authorize adds `iss` to every authorization response.
    authorization_response_iss_parameter_supported: true,
    // draft-ietf-oauth-client-id-metadata-document §5 / MCP 2025-11-25 authorization: URL client_ids are resolved.
    ...(features.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  };
}

/**
 * RFC 9728 §2 protected-resource metadata of one MCP service. `authorization_servers` names the service's own
 * authorization server (RFC 8414 §3.1 path-form issuer), whose requests default `resource` to this service.
 */
export function protectedResourceMetadata(
  service: ResolvedService,
  topology: GatewayTopology,
): Record<string, unknown> {
  return {
    // RFC 9728 §3.3: the exact URL the client connected to.
    resource: service.mcpUrl,
    authorization_servers: [serviceIssuer(topology, service)],
    // RFC 9728 §2: the base scope and the service's own (docs/authorization.md); MCP authorization "Refresh
    // Tokens": the resource SHOULD NOT list offline_access.
    scopes_supported: [BASE_SCOPE, ...service.policy.scopes.keys()],
    bearer_methods_supported: ['header'],
    resource_name: service.title,
  };
}

/**
 * Which service a protected-resource metadata request is about. `suffix` is what follows
 * `/.well-known/oauth-protected-resource` ('' for the root URL).
 * - subdomain mode: the service whose host the request came to (`Host`); path-inserted suffix `/mcp`.
 * - path mode: all services share one origin, so the suffix `/NAME/mcp` names the service. The ROOT URL
 *   can describe only one resource there: it answers for the first enabled service in catalog order
 *   (docs/auth.md). MCP clients try the path-inserted URL first (MCP authorization, RFC 9728 §3.1) and the
 *   401 challenge names it, so the root is only a fallback for clients that ignore both.
 */
export function serviceForMetadata(
  topology: GatewayTopology,
  host: string,
  suffix: string,
): ResolvedService | undefined {
  const candidates =
    topology.mode === 'path' ? topology.enabled : topology.enabled.filter((service) => sameHost(service.origin, host));
  if (suffix === '' || suffix === '/') return candidates[0];
  const wanted = suffix.replace(/\/$/, '');
  return candidates.find((service) => new URL(service.mcpUrl).pathname === wanted);
}

/** The request's Host names the origin's host; a port, default or not, is not part of the service's identity. */
function sameHost(origin: string, host: string): boolean {
  return new URL(origin).hostname === host.toLowerCase().replace(/:\d+$/, '');
}
