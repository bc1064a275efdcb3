/**
 * Query parameters that carry a credential or a value that binds one (authorization codes, `state`, PKCE verifiers,
 * tokens, secrets): they never reach a log line (RFC 9700 §4.1.1 on leaking codes through logs; docs/security.md S37).
 */
export const REDACTED_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'code',
  'state',
  'code_verifier',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'client_secret',
  'assertion',
  'client_assertion',
]);

const CENSOR = '[redacted]';

/** `path?query` with the values of sensitive parameters replaced; anything unparsable is dropped to its path. */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const path = url.slice(0, start);
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.slice(start + 1));
  } catch {
    return `${path}?${CENSOR}`;
  }
  let changed = false;
  for (const name of new Set(params.keys())) {
    if (!REDACTED_QUERY_PARAMETERS.has(name.toLowerCase())) continue;
    params.set(name, CENSOR);
    changed = true;
  }
  return changed ? `${path}?${params.toString()}` : url;
}

/** The same for a parsed query object (`req.query`). */
export function redactQuery(query: unknown): unknown {
  if (!query || typeof query !== 'object') return query;
  return Object.fromEntries(
    Object.entries(query as Record<string, unknown>).map(([name, value]) => [
      name,
      REDACTED_QUERY_PARAMETERS.has(name.toLowerCase()) ? CENSOR : value,
    ]),
  );
}
