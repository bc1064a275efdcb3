import { plainToInstance } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, MaxLength, validateSync } from 'class-validator';
import { LRUCache } from 'lru-cache';

/**
 * The identity headers auth's `/verify` returns on 200 and the edge (Traefik `authResponseHeaders`)
 * copies onto the request to an MCP service. The edge strips any client-sent copy first.
 */
export const IDENTITY_HEADERS = {
  userId: 'x-user-id',
  userName: 'x-user-name',
  userEmail: 'x-user-email',
  clientId: 'x-client-id',
  scope: 'x-scope',
  grantableScope: 'x-scope-grantable',
} as const;

/** The caller as an MCP service sees it. */
export class CallerIdentity {
  /** Stable subject (`sub` of the access token). */
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  public userId!: string;

  /** Login name at the upstream IdP. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  public userName?: string;

  @IsOptional()
  @IsString()
  @MaxLength(320)
  public userEmail?: string;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  public clientId?: string;

  /** Space-separated granted scopes. */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  public scope?: string;

  /**
   * Space-separated scopes the policy lets this user be granted for this service (the base scope and the
   * service's; docs/authorization.md): a tool needing one of them and not in `scope` asks for step-up, a tool
   * needing any other is hidden.
   */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  public grantableScope?: string;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Identities already read, by their header values: an MCP service sees the same few callers on every request,
 * and class-validator per request was ~5 % of a `tools/call` (docs/benchmarks.md). Shared and frozen.
 */
const known = new LRUCache<string, { readonly identity: CallerIdentity | undefined }>({ max: 1000 });

/** Reads the identity headers; `undefined` when there is no (valid) user id. */
export function identityFromHeaders(headers: Headers): CallerIdentity | undefined {
  const read = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const values = Object.values(IDENTITY_HEADERS).map(read);
  // Header values cannot contain a line feed (RFC 9110 §5.5), so the joined values name one set of headers.
  const key = values.map((value) => value ?? '').join('\n');
  const cached = known.get(key);
  if (cached) return cached.identity;
  const raw = Object.fromEntries(
    Object.keys(IDENTITY_HEADERS)
      .map((field, index) => [field, values[index]])
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const identity = plainToInstance(CallerIdentity, raw);
  const valid = validateSync(identity).length === 0 ? Object.freeze(identity) : undefined;
  known.set(key, { identity: valid });
  return valid;
}

/** The headers for an identity (what `/verify` sends). */
export function identityToHeaders(identity: CallerIdentity): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [field, header] of Object.entries(IDENTITY_HEADERS)) {
    const value = identity[field as keyof CallerIdentity];
    if (value) headers[header] = value;
  }
  return headers;
}
