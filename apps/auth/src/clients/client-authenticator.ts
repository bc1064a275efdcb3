import { Injectable } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import { ClientDirectory } from './client-directory';
import { ClientDocumentUnavailable } from './client-metadata-documents';
import { type ClientRecord, matchesHash, type TokenEndpointAuthMethod } from '../store/records';

/** RFC 6749 §5.2: a 401 after Basic authentication carries the Basic challenge. */
const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="token", charset="UTF-8"' };

/** The client credentials a request carries (form fields and the Authorization header). */
export interface ClientCredentials {
  readonly authorization?: string;
  readonly client_id?: string;
  readonly client_secret?: string;
}

/**
 * Client authentication at /token, /revoke and /introspect (RFC 6749 §2.3, §3.2.1). A client that holds a
 * secret may present it either way, Basic or form, whatever it registered (RFC 6749 §2.3.1 defines both for
 * the same credential; clients that registered one and send the other otherwise loop on re-registration), but
 * never both in one request. A secret-holding client can never fall back to acting as a public one, and a
 * public client cannot present a secret (RFC 6749 §3.2.1; docs/security.md S1). Failures are 401
 * `invalid_client`, with `WWW-Authenticate: Basic` when the client tried Basic (§5.2).
 */
@Injectable()
export class ClientAuthenticator {
  public constructor(private readonly clients: ClientDirectory) {}

  public async authenticate(credentials: ClientCredentials): Promise<ClientRecord> {
    const basic = parseBasic(credentials.authorization);
    const fail = (description: string, cause?: string): OAuthError =>
      new OAuthError('invalid_client', description, {
        status: 401,
        ...(basic ? { headers: BASIC_CHALLENGE } : {}),
        cause,
      });

    // §2.3: a client MUST NOT use more than one authentication method in a request.
    if (basic && credentials.client_secret !== undefined)
      throw new OAuthError(
        'invalid_request',
        'send the client secret either in the Authorization header or in the body, not both',
      );
    if (basic && credentials.client_id !== undefined && credentials.client_id !== basic.clientId) {
      throw new OAuthError('invalid_request', 'client_id in the body differs from the one in the Authorization header');
    }
    const clientId = basic?.clientId ?? credentials.client_id;
    if (!clientId) throw fail('client authentication is required (client_id)');
    const client = await this.find(clientId);
    if (!client) throw fail('unknown client; register again', `unknown client_id ${clientId.slice(0, 80)}`);
    if (client.expiresAt > 0 && client.expiresAt <= Math.floor(Date.now() / 1000))
      throw fail('the client registration has expired; register again', `expired client ${clientId}`);

    const used: TokenEndpointAuthMethod = basic
      ? 'client_secret_basic'
      : credentials.client_secret !== undefined
        ? 'client_secret_post'
        : 'none';
    const registered = client.metadata.token_endpoint_auth_method;
    const holdsSecret = registered === 'client_secret_basic' || registered === 'client_secret_post';
    if (holdsSecret !== (used !== 'none'))
      throw fail(
        holdsSecret
          ? 'this client must authenticate with its client secret (client_secret_basic or client_secret_post)'
          : `this client must authenticate with ${registered}, not ${used}`,
        `client ${clientId} used ${used}`,
      );
    if (!holdsSecret) return client;
    const secret = basic?.secret ?? credentials.client_secret ?? '';
    if (!client.clientSecretHash || !matchesHash(secret, client.clientSecretHash))
      throw fail('client authentication failed', `wrong secret for ${clientId}`);
    return client;
  }

  /** An unreachable metadata document is the server's trouble for now: 503 + Retry-After, not invalid_client. */
  private async find(clientId: string): Promise<ClientRecord | undefined> {
    try {
      return await this.clients.find(clientId);
    } catch (error) {
      if (!(error instanceof ClientDocumentUnavailable)) throw error;
      throw new OAuthError(
        'temporarily_unavailable',
        "the client's metadata document could not be loaded; try again later",
        { headers: { 'retry-after': String(error.retryAfterSeconds) }, cause: error.message },
      );
    }
  }
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`. */
function parseBasic(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (!header || !/^Basic\b/i.test(header)) return undefined;
  const malformed = new OAuthError('invalid_client', 'malformed Basic credentials', {
    status: 401,
    headers: BASIC_CHALLENGE,
  });
  const encoded = /^Basic +([A-Za-z0-9+/=._~-]+) *$/i.exec(header)?.[1];
  const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 0) throw malformed;
  try {
    const decode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    return { clientId: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    throw malformed;
  }
}
