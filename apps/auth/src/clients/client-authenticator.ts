import { Injectable } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import { assertionSubject, ClientAssertionVerifier, JWT_BEARER_ASSERTION } from './client-assertion';
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
  /** RFC 7521 §4.2 */
  readonly client_assertion?: string;
  readonly client_assertion_type?: string;
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
  public constructor(
    private readonly clients: ClientDirectory,
    private readonly assertions: ClientAssertionVerifier,
  ) {}

  /** `endpointPath` (e.g. `/token`) is an accepted assertion audience besides the token endpoint and the issuer. */
  public async authenticate(credentials: ClientCredentials, endpointPath = '/token'): Promise<ClientRecord> {
    if (credentials.client_assertion !== undefined || credentials.client_assertion_type !== undefined)
      return this.authenticateAssertion(credentials, endpointPath);
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
    if (registered === 'private_key_jwt')
      throw fail(
        'this client must authenticate with private_key_jwt (client_assertion)',
        `client ${clientId} used ${used}`,
      );
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

  /** RFC 7521 §4.2 / RFC 7523 §2.2: `client_assertion_type` + `client_assertion`; `client_id` optional but equal to `sub`. */
  private async authenticateAssertion(credentials: ClientCredentials, endpointPath: string): Promise<ClientRecord> {
    const fail = (description: string, cause?: string): OAuthError =>
      new OAuthError('invalid_client', description, { status: 401, cause });
    if (credentials.authorization !== undefined || credentials.client_secret !== undefined)
      throw new OAuthError(
        'invalid_request',
        'use one client authentication method per request, not a secret and an assertion',
      );
    if (credentials.client_assertion_type !== JWT_BEARER_ASSERTION)
      throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    if (!credentials.client_assertion) throw new OAuthError('invalid_request', 'client_assertion is required');
    const subject = assertionSubject(credentials.client_assertion);
    if (!subject) throw fail('the client assertion is not a JWT with a sub claim');
    if (credentials.client_id !== undefined && credentials.client_id !== subject)
      throw new OAuthError('invalid_request', 'client_id differs from the sub of the client assertion');
    const client = await this.find(subject);
    if (!client) throw fail('unknown client; register again', `unknown client_id ${subject.slice(0, 80)}`);
    if (client.expiresAt > 0 && client.expiresAt <= Math.floor(Date.now() / 1000))
      throw fail('the client registration has expired; register again', `expired client ${subject}`);
    if (client.metadata.token_endpoint_auth_method !== 'private_key_jwt')
      throw fail(
        `this client must authenticate with ${client.metadata.token_endpoint_auth_method}, not private_key_jwt`,
      );
    await this.assertions.verify(client, credentials.client_assertion, endpointPath);
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

/** The client credentials of a form request (RFC 6749 §2.3.1, RFC 7521 §4.2). */
export function credentialsOf(
  fields: Readonly<Record<string, string | string[] | undefined>>,
  authorization: string | undefined,
): ClientCredentials {
  const one = (name: string): string | undefined => {
    const value = fields[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    authorization,
    client_id: one('client_id'),
    client_secret: one('client_secret'),
    client_assertion: one('client_assertion'),
    client_assertion_type: one('client_assertion_type'),
  };
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
