import { OAuthError } from './oauth-error';

/**
 * Redirect-URI policy, decided on the WHATWG-parsed URL (never by string prefix:
 * RFC 9700 §4.1.3 asks for exact matching; a prefix check lets `https://good.example.evil.example` through).
 * - `https:` anywhere;
 * - `http:` only on the loopback hosts `localhost`, `127.0.0.1`, `[::1]` (RFC 8252 §7.3, §8.3);
 * - private-use schemes such as `cursor://…` or `com.example.app:/cb` (RFC 8252 §7.1), matched exactly;
 * - never: fragments (RFC 6749 §3.1.2), userinfo, script/data/file-like schemes, out-of-band `urn:`.
 */
export const MAX_REDIRECT_URI_LENGTH = 2000;

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Schemes that are not a private-use app scheme: the web's own, and ones that run or embed content. */
const REFUSED_SCHEMES: ReadonlySet<string> = new Set([
  'javascript:',
  'vbscript:',
  'data:',
  'blob:',
  'file:',
  'filesystem:',
  'about:',
  'ftp:',
  'ws:',
  'wss:',
  'urn:',
  'mailto:',
  'tel:',
  'sms:',
  'view-source:',
]);

/** C0 controls, space, DEL and C1 controls: none may appear in a URI (RFC 3986 §2). */
// eslint-disable-next-line no-control-regex
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f]/;

export type RedirectUriKind = 'https' | 'loopback' | 'private-use';

/** Validates one redirect URI for registration; returns its kind or throws `invalid_redirect_uri`. */
export function checkRedirectUri(value: unknown): RedirectUriKind {
  if (typeof value !== 'string' || value.length === 0) throw refuse('each redirect URI must be a non-empty string');
  if (value.length > MAX_REDIRECT_URI_LENGTH)
    throw refuse(`redirect URIs are limited to ${MAX_REDIRECT_URI_LENGTH} characters`);
  // WHATWG parsing silently removes tabs and newlines and trims C0 controls and spaces, so the stored value
  // would differ from what matches: refuse them outright (RFC 3986 §2 allows none; docs/security.md S36).
  if (CONTROL_OR_SPACE.test(value))
    throw refuse('redirect URIs must not contain control characters (CR, LF, NUL, tab, ...) or spaces');
  const url = parse(value);
  if (!url) throw refuse(`${quote(value)} is not an absolute URI`);
  // WHATWG drops an empty fragment ("…/cb#"), so look at the raw string too. RFC 6749 §3.1.2.
  if (url.hash || value.includes('#')) throw refuse(`${quote(value)} must not contain a fragment`);
  if (url.username || url.password) throw refuse(`${quote(value)} must not contain user information`);
  if (url.protocol === 'https:') {
    if (!url.hostname) throw refuse(`${quote(value)} has no host`);
    return 'https';
  }
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return 'loopback';
    throw refuse(`${quote(value)}: plain http is only allowed on localhost, 127.0.0.1 and [::1]; use https`);
  }
  if (REFUSED_SCHEMES.has(url.protocol)) throw refuse(`${quote(value)}: the ${url.protocol} scheme is not allowed`);
  return 'private-use';
}

/**
 * Does the redirect URI presented at /authorize match one registered value? Exact string comparison
 * (MCP authorization "Open Redirection", RFC 6749 §3.1.2.3), except that for a registered loopback
 * http URI the port is ignored (RFC 8252 §7.3): scheme, host, path and query must still be identical.
 */
export function matchRedirectUri(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  if (CONTROL_OR_SPACE.test(presented)) return false;
  const want = parse(registered);
  const got = parse(presented);
  if (!want || !got) return false;
  if (want.protocol !== 'http:' || !LOOPBACK_HOSTS.has(want.hostname)) return false;
  if (presented.includes('#') || got.username || got.password) return false;
  return (
    got.protocol === 'http:' &&
    got.hostname === want.hostname &&
    got.pathname === want.pathname &&
    got.search === want.search
  );
}

function parse(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

function refuse(description: string): OAuthError {
  return new OAuthError('invalid_redirect_uri', description);
}
