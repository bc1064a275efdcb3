import { decodeJwt, decodeProtectedHeader } from 'jose';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** Header names whose values are credentials: never printed, whatever the tool. */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie)$|token|secret|password|api-?key|session-?key/i;

/** A credential's shape without its value: `Bearer [redacted, 812 chars]`, cookie names only. */
export function redactHeader(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (lower === 'cookie') {
    const names = value
      .split(';')
      .map((pair) => pair.split('=')[0]?.trim())
      .filter(Boolean);
    return `[redacted values] cookies: ${names.join(', ')}`;
  }
  if (!CREDENTIAL_HEADER.test(lower)) return value;
  const [scheme, ...rest] = value.split(' ');
  const credential = rest.join(' ');
  return credential && /^[A-Za-z-]+$/.test(scheme ?? '')
    ? `${scheme} [redacted, ${credential.length} chars]`
    : `[redacted, ${value.length} chars]`;
}

export interface HeaderGroups {
  /** Set by the edge: x-forwarded-*, x-real-*, x-original-*, forwarded, via. */
  readonly edge: [string, string][];
  /** Identity and credentials: x-user-*, x-client-id, x-scope, x-auth-*, authorization. */
  readonly identity: [string, string][];
  /** MCP transport: mcp-session-id, mcp-protocol-version, last-event-id. */
  readonly mcp: [string, string][];
  readonly other: [string, string][];
}

/** Sorts the request headers into groups, credentials redacted. */
export function groupHeaders(headers: Headers): HeaderGroups {
  const groups: HeaderGroups = { edge: [], identity: [], mcp: [], other: [] };
  for (const [name, raw] of Object.entries(headers).sort(([a], [b]) => a.localeCompare(b))) {
    if (raw === undefined) continue;
    const value = redactHeader(name, Array.isArray(raw) ? raw.join(', ') : raw);
    const group = /^(x-forwarded-|x-real-|x-original-|forwarded$|via$)/.test(name)
      ? groups.edge
      : /^(x-user-|x-client-id$|x-scope$|x-auth-|authorization$|proxy-authorization$)/.test(name)
        ? groups.identity
        : /^(mcp-|last-event-id$)/.test(name)
          ? groups.mcp
          : groups.other;
    group.push([name, value]);
  }
  return groups;
}

export interface DecodedBearer {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  readonly hasSignature: boolean;
}

/** The bearer token of an `Authorization` header, decoded WITHOUT verification (jose); never the signature. */
export function decodeBearer(authorization: string | undefined): DecodedBearer | string {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1])
    return authorization
      ? 'The Authorization header is not a Bearer token.'
      : 'No Authorization header reached this service.';
  const token = match[1];
  try {
    return {
      header: decodeProtectedHeader(token) as Record<string, unknown>,
      claims: decodeJwt(token) as Record<string, unknown>,
      hasSignature: (token.split('.')[2] ?? '') !== '',
    };
  } catch {
    return `The bearer token (${token.length} chars) is not a JWT (opaque tokens cannot be decoded).`;
  }
}

/** A Unix time as ISO plus a relative phrase ("in 5m", "3h ago"). */
export function describeTime(seconds: unknown, nowMs = Date.now()): string {
  if (typeof seconds !== 'number') return String(seconds);
  const delta = Math.round(seconds - nowMs / 1000);
  const size = Math.abs(delta);
  const amount = size < 120 ? `${size}s` : size < 7200 ? `${Math.round(size / 60)}m` : `${Math.round(size / 3600)}h`;
  return `${new Date(seconds * 1000).toISOString()} (${delta >= 0 ? `in ${amount}` : `${amount} ago`})`;
}

/** Environment keys `environmentDump` may show: configuration, never credentials. */
export const SAFE_ENV_KEYS = [
  'NODE_ENV',
  'HOST',
  'PORT',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'SHUTDOWN_TIMEOUT',
  'ROUTING_MODE',
  'PUBLIC_URL',
  'BASE_DOMAIN',
  'PUBLIC_SCHEME',
  'STORAGE_PREFIX',
  'MCP_ALLOWED_ORIGINS',
  'MCP_MAX_BODY_BYTES',
  'MCP_SESSION_IDLE_TIMEOUT',
] as const;

/** The allow-listed keys with their values; REDIS_URL only as "set"/"not set" (it may hold a password). */
export function safeEnvironment(env: NodeJS.ProcessEnv): [string, string][] {
  const entries: [string, string][] = SAFE_ENV_KEYS.map((key) => [key, env[key] ?? '(default)']);
  entries.push(['REDIS_URL', env['REDIS_URL'] ? 'set (value hidden)' : 'not set (memory storage)']);
  return entries;
}
