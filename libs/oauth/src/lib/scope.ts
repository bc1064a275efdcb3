import { OAuthError } from './oauth-error';

/**
 * The scopes this gateway knows, in one place for /authorize, /token, registration and metadata.
 * - `mcp`: use the MCP services the user may reach (the only resource scope).
 * - `offline_access`: ask for a refresh token. The AS metadata lists it so that clients know they may
 *   request it; protected-resource metadata does not (MCP authorization "Refresh Tokens": RS SHOULD NOT).
 */
export const SUPPORTED_SCOPES = ['mcp', 'offline_access'] as const;
/** RFC 9728 `scopes_supported` of every MCP service. */
export const RESOURCE_SCOPES = ['mcp'] as const;

export type Scope = (typeof SUPPORTED_SCOPES)[number];

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Parses a space-delimited `scope` (RFC 6749 §3.3) into distinct tokens, in order. Throws `invalid_scope`
 * (or the given code) on bad syntax or on a scope this server does not support.
 */
export function parseScope(
  value: string,
  code: 'invalid_scope' | 'invalid_client_metadata' = 'invalid_scope',
): Scope[] {
  const tokens = value.split(' ').filter((token) => token !== '');
  const bad = tokens.find((token) => !SCOPE_TOKEN.test(token));
  if (bad !== undefined)
    throw new OAuthError(code, `scope contains an invalid character: ${JSON.stringify(bad.slice(0, 50))}`);
  const unknown = tokens.filter((token) => !(SUPPORTED_SCOPES as readonly string[]).includes(token));
  if (unknown.length > 0) {
    throw new OAuthError(
      code,
      `unsupported scope ${unknown.map((s) => JSON.stringify(s.slice(0, 50))).join(', ')}; supported: ${SUPPORTED_SCOPES.join(' ')}`,
    );
  }
  return [...new Set(tokens as Scope[])];
}
