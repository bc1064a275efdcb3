import { type GatewayTopology, type ResolvedService, serviceForResource } from '@gateway/catalog';
import { matchRedirectUri, OAuthError, parseScope, withBaseScope } from '@gateway/oauth';
import { PageError } from '../pages/page-exception.filter';
import type { ClientRecord } from '../store/records';

/** A validated /authorize request, carried through upstream login and consent until the code is issued. */
export interface AuthorizationRequest {
  readonly clientId: string;
  /** Exactly as presented (RFC 6749 §4.1.3: /token must repeat it). */
  readonly redirectUri: string;
  /** The client's `state`, echoed back untouched (absent when it sent none). */
  readonly state?: string;
  readonly codeChallenge: string;
  /** RFC 8707: the canonical MCP URL of the service (not the client's spelling). */
  readonly resource: string;
  /** Space-separated granted scopes. */
  readonly scope: string;
  /** `prompt=consent`: ask even when consent is remembered. */
  readonly forceConsent: boolean;
  /** The issuer the request came to (the gateway's or a service's), sent back as RFC 9207 `iss`. */
  readonly issuer: string;
}

/** Where errors go once client_id and redirect_uri are known good (RFC 6749 §4.1.2.1). */
export interface ClientRedirect {
  readonly redirectUri: string;
  readonly state?: string;
  /** RFC 9207: the issuer the request came to, sent back as `iss` on every response, errors included. */
  readonly issuer: string;
}

/** A request so broken that it must not redirect: the user gets an error page (RFC 6749 §4.1.2.1). */
export class AuthorizePageError extends PageError {
  public constructor(title: string, message: string) {
    super(400, title, message);
  }
}

/** An error to send to the client's redirect URI. */
export class AuthorizeRedirectError extends Error {
  public constructor(
    public readonly target: ClientRedirect,
    public readonly error: OAuthError,
  ) {
    super(error.message);
  }
}

type Query = Readonly<Record<string, string | string[] | undefined>>;

// RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters; accept the verifier alphabet and length.
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;

/** Step 1 (no redirect on failure): the client and its redirect URI. */
export function checkClientRedirect(
  client: ClientRecord | undefined,
  clientId: string,
  query: Query,
  issuer: string,
): { client: ClientRecord; target: ClientRedirect } {
  if (Array.isArray(query['client_id']) || Array.isArray(query['redirect_uri'])) {
    throw new AuthorizePageError('Invalid request', 'client_id and redirect_uri must each appear once.');
  }
  if (!clientId)
    throw new AuthorizePageError(
      'Missing client',
      'The request has no client_id. The application that sent you here is misconfigured.',
    );
  if (!client) {
    throw new AuthorizePageError(
      'Unknown application',
      `No application is registered as "${clientId}" (it may have expired). Reconnect from the application so that it registers again.`,
    );
  }
  const presented = single(query, 'redirect_uri');
  const registered = client.metadata.redirect_uris;
  // RFC 6749 §3.1.2.3: a client with several redirect URIs must name one.
  const redirectUri = presented ?? (registered.length === 1 ? registered[0] : undefined);
  if (!redirectUri)
    throw new AuthorizePageError(
      'Invalid redirect URI',
      'The request has no redirect_uri and the application registered several.',
    );
  if (!registered.some((candidate) => matchRedirectUri(candidate, redirectUri))) {
    throw new AuthorizePageError(
      'Invalid redirect URI',
      `The redirect URI "${redirectUri}" is not registered for this application, so you were not sent there.`,
    );
  }
  const state = single(query, 'state');
  return { client, target: { redirectUri, ...(state !== undefined ? { state } : {}), issuer } };
}

/**
 * Step 2 (errors redirect to the client): response type, PKCE, resource, scope. `scoped` is the service whose
 * own authorization server received the request (docs/auth.md): it is the default `resource`, and the only one.
 */
export function checkAuthorizationRequest(
  client: ClientRecord,
  target: ClientRedirect,
  query: Query,
  topology: GatewayTopology,
  scoped?: ResolvedService,
): { request: AuthorizationRequest; service: ResolvedService } {
  const fail = (code: ConstructorParameters<typeof OAuthError>[0], description: string): never => {
    throw new AuthorizeRedirectError(target, new OAuthError(code, description));
  };
  const duplicated = Object.entries(query).find(([, value]) => Array.isArray(value));
  // RFC 6749 §3.1: request parameters must not be included more than once.
  if (duplicated) fail('invalid_request', `parameter ${duplicated[0]} is repeated`);

  const responseType = single(query, 'response_type');
  if (!responseType) fail('invalid_request', 'response_type is required');
  if (responseType !== 'code') fail('unsupported_response_type', 'only response_type=code is supported (OAuth 2.1)');
  if (!client.metadata.response_types.includes('code'))
    fail('unauthorized_client', 'this client did not register response_type code');

  // OAuth 2.1 §4.1.1 / MCP authorization: PKCE is required, S256 only .
  const challenge = single(query, 'code_challenge');
  const method = single(query, 'code_challenge_method');
  if (!challenge) fail('invalid_request', 'code_challenge is required (PKCE, S256)');
  if (method !== 'S256')
    fail(
      'invalid_request',
      method ? `code_challenge_method ${method} is not supported; use S256` : 'code_challenge_method=S256 is required',
    );
  if (!CODE_CHALLENGE.test(challenge as string))
    fail('invalid_request', 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]');

  const service = resolveResource(single(query, 'resource'), topology, fail, scoped);
  const scope = resolveScope(single(query, 'scope'), client, service, fail);
  return {
    request: {
      clientId: client.clientId,
      redirectUri: target.redirectUri,
      ...(target.state !== undefined ? { state: target.state } : {}),
      codeChallenge: challenge as string,
      resource: service.mcpUrl,
      scope,
      forceConsent: (single(query, 'prompt') ?? '').split(' ').includes('consent'),
      issuer: target.issuer,
    },
    service,
  };
}

/**
 * RFC 8707 §2: `resource` names the service the token is for. At a service's own authorization server
 * (`scoped`) it defaults to that service and may name no other. At the gateway issuer a request without it is
 * unambiguous only when exactly one service is enabled; otherwise `invalid_target` tells the client to send it
 * or to follow the service's protected-resource metadata (docs/auth.md).
 */
function resolveResource(
  resource: string | undefined,
  topology: GatewayTopology,
  fail: (code: 'invalid_target', d: string) => never,
  scoped?: ResolvedService,
): ResolvedService {
  if (resource === undefined) {
    if (scoped) return scoped;
    if (topology.enabled.length === 1) return topology.enabled[0] as ResolvedService;
    return fail(
      'invalid_target',
      `resource is required: the MCP server URL, one of ${topology.enabled.map((service) => service.mcpUrl).join(', ')}`,
    );
  }
  const service = serviceForResource(topology, resource);
  if (!service)
    return fail(
      'invalid_target',
      `resource ${JSON.stringify(resource.slice(0, 200))} is not an MCP service of this gateway`,
    );
  if (scoped && service !== scoped)
    return fail('invalid_target', `this authorization server issues tokens for ${scoped.mcpUrl} only`);
  return service;
}

/**
 * RFC 6749 §3.3: the server may grant less than asked and says what it granted. Unknown scopes and resource
 * scopes the client did not register are dropped, not refused (clients send `openid profile email`,
 * `claudeai`, `read write`); `offline_access` is granted to a client that registered the `refresh_token`
 * grant (RFC 7591 §2), since the Inspector registers the resource's scopes and then asks for the server's.
 * The base scope is always granted, so a request for only `offline_access` still yields a usable token.
 * The service's own scopes (docs/authorization.md) are known for this request only; the policy and the user's
 * consent decide them, not the registration (a client cannot know at registration what step-up will need).
 * Without `scope` the client gets the service's initial scopes (what its 401 challenge names).
 */
function resolveScope(
  requested: string | undefined,
  client: ClientRecord,
  service: ResolvedService,
  fail: (code: 'invalid_scope', d: string) => never,
): string {
  const registered = client.metadata.scope?.split(' ').filter(Boolean);
  const refreshable = client.metadata.grant_types.includes('refresh_token');
  if (requested === undefined || requested.trim() === '')
    return withBaseScope([...service.policy.initialScopes, ...(registered ?? []).filter((scope) => scope !== 'mcp')]);
  let scopes: string[] = [];
  try {
    scopes = parseScope(requested, 'invalid_scope', [...service.policy.scopes.keys()]);
  } catch (error) {
    fail('invalid_scope', (error as Error).message);
  }
  const allowed = (scope: string): boolean =>
    scope === 'offline_access' ? refreshable || (registered?.includes(scope) ?? true) : true;
  return withBaseScope(scopes.filter(allowed));
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}
