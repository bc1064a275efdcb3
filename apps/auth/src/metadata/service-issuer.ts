import type { GatewayTopology, ResolvedService } from '@gateway/catalog';
import { AS_METADATA_PATH } from '../http/endpoints';

/**
 * One authorization server per MCP service, so that a client that omits `resource` still gets a token for
 * the server it connected to, and only that one (docs/auth.md "A request without resource").
 *
 * The issuer is path-form (RFC 8414 §3.1): `<gateway issuer>/as/<service name>`. `/as/` keeps it apart from
 * the services' own paths in path routing mode (`/<name>/mcp`), so the edge's catch-all route for auth
 * serves it without a rule per service. Its metadata lives at the path-inserted well-known URL.
 */
export const SERVICE_ISSUER_SEGMENT = '/as';

export function serviceIssuer(topology: GatewayTopology, service: ResolvedService): string {
  return `${topology.issuer}${SERVICE_ISSUER_SEGMENT}/${service.name}`;
}

/** RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the host and the issuer's path. */
export function serviceIssuerMetadataUrl(topology: GatewayTopology, service: ResolvedService): string {
  const issuer = new URL(serviceIssuer(topology, service));
  return `${issuer.origin}${AS_METADATA_PATH}${issuer.pathname}`;
}

/** The enabled service an issuer-path segment names (`echo-stateless` of `/as/echo-stateless/...`). */
export function serviceOfIssuerName(topology: GatewayTopology, name: string): ResolvedService | undefined {
  return topology.enabled.find((service) => service.name === name);
}
