/**
 * Error codes of the OAuth specifications this server speaks, each where its RFC defines it.
 * - RFC 6749 §4.1.2.1 and §5.2: invalid_request, invalid_client, invalid_grant, unauthorized_client,
 *   unsupported_grant_type, invalid_scope, access_denied, unsupported_response_type, server_error,
 *   temporarily_unavailable
 * - RFC 6750 §3.1: invalid_token, insufficient_scope
 * - RFC 7591 §3.2.2: invalid_redirect_uri, invalid_client_metadata
 * - RFC 8707 §2: invalid_target
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_target';

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_target: 400,
};

export interface OAuthErrorOptions {
  /** HTTP status when it differs from the code's default. */
  readonly status?: number;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The internal reason: logged, never sent. */
  readonly cause?: unknown;
}

/**
 * The one OAuth error type. `message` is the `error_description` the client sees, so it must
 * explain the client's mistake and never carry internal detail (that goes in `cause`).
 */
export class OAuthError extends Error {
  public readonly status: number;
  public readonly headers: Readonly<Record<string, string>>;

  public constructor(
    public readonly code: OAuthErrorCode,
    description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.status = options.status ?? DEFAULT_STATUS[code];
    this.headers = options.headers ?? {};
  }

  /** The RFC 6749 §5.2 JSON body. */
  public toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}
