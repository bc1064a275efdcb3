import { BASE_SCOPE } from '@gateway/catalog';
import { OAuthError } from './oauth-error';

export { BASE_SCOPE };

/**
 * The scopes this gateway knows, in one place for /authorize, /token, registration and metadata.
 * - `mcp`: use the MCP services the user may reach (the base scope of every grant); each service adds its
 *   own `<service>:<scope>` scopes for per-tool authorization (the catalog's policy, docs/authorization.md).
 * - `offline_access`: ask for a refresh token. The AS metadata lists it so that clients know they may
 *   request it; protected-resource metadata does not (MCP authorization "Refresh Tokens": RS SHOULD NOT).
 */
export const SUPPORTED_SCOPES = ['mcp', 'offline_access'] as const;

export type Scope = (typeof SUPPORTED_SCOPES)[number];

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Parses a space-delimited `scope` (RFC 6749 §3.3) into the distinct scopes this server knows, in order.
 * Unknown scopes (`openid profile email`, `claudeai`, `read write`) are dropped, not refused: RFC 6749 §3.3
 * lets the server ignore part of the request and say what it granted, RFC 7591 §3.2.1 lets it register
 * other values than asked. Only a malformed value (bad characters) throws `invalid_scope` (or the given code).
 */
export function parseScope(
  value: string,
  code: 'invalid_scope' | 'invalid_client_metadata' = 'invalid_scope',
  /** Scopes known besides the gateway's own: the target service's (`<service>:<scope>`, docs/authorization.md). */
  serviceScopes: readonly string[] = [],
): string[] {
  const tokens = value.split(' ').filter((token) => token !== '');
  const bad = tokens.find((token) => !SCOPE_TOKEN.test(token));
  if (bad !== undefined)
    throw new OAuthError(code, `scope contains an invalid character: ${JSON.stringify(bad.slice(0, 50))}`);
  const known = tokens.filter(
    (token) => (SUPPORTED_SCOPES as readonly string[]).includes(token) || serviceScopes.includes(token),
  );
  return [...new Set(known)];
}

/** The base scope first, then the others in order, each once. */
export function withBaseScope(scopes: readonly string[]): string {
  return [...new Set([BASE_SCOPE, ...scopes])].join(' ');
}
