import { plainToInstance } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, MaxLength, validateSync } from 'class-validator';

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

/** Reads the identity headers; `undefined` when there is no (valid) user id. */
export function identityFromHeaders(headers: Headers): CallerIdentity | undefined {
  const read = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const raw = Object.fromEntries(
    Object.entries(IDENTITY_HEADERS)
      .map(([field, header]) => [field, read(header)])
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const identity = plainToInstance(CallerIdentity, raw);
  return validateSync(identity).length === 0 ? identity : undefined;
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
