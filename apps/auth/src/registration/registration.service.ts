import { counter } from '@gateway/platform';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { OAuthError, validateClientMetadata } from '@gateway/oauth';
import { AuthEnv } from '../config/auth.env';
import { ClientStore, clientTtl } from '../store/client.store';
import { ENDPOINT_PATHS } from '../http/endpoints';
import { type ClientMetadata, type ClientRecord, hashSecret, matchesHash } from '../store/records';
import { TOPOLOGY } from '../config/topology.provider';

/** RFC 7591 §3.2.1 / RFC 7592 §3 client information response. */
export type ClientInformation = ClientMetadata & {
  client_id: string;
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
  registration_access_token: string;
  registration_client_uri: string;
};

/** 256 bits from the CSPRNG, base64url: client ids, secrets and registration tokens. */
const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');
// Compared against when the client is unknown, so an unknown client costs the same as a wrong token.
const UNKNOWN_CLIENT_HASH = hashSecret(randomToken());

/**
 * Dynamic client registration (RFC 7591) and management (RFC 7592). Secrets and registration access
 * tokens are returned once and stored only as SHA-256 hashes (docs/security.md S9).
 */

const registrations = counter('auth_registrations_total', 'clients registered (dcr: RFC 7591 /register)', ['kind']);
@Injectable()
export class RegistrationService {
  public constructor(
    private readonly clients: ClientStore,
    private readonly env: AuthEnv,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  /** RFC 7591 §3.1–3.2: validate, store, answer with everything registered plus the credentials. */
  public async register(body: unknown): Promise<ClientInformation> {
    const metadata = validateClientMetadata(body);
    const now = Math.floor(Date.now() / 1000);
    const lifetime = this.env.CLIENT_LIFETIME;
    const clientId = randomToken(16);
    const clientSecret = metadata.token_endpoint_auth_method === 'none' ? undefined : randomToken();
    const registrationToken = randomToken();
    const record: ClientRecord = {
      clientId,
      ...(clientSecret ? { clientSecretHash: hashSecret(clientSecret) } : {}),
      registrationTokenHash: hashSecret(registrationToken),
      issuedAt: now,
      expiresAt: lifetime > 0 ? now + lifetime : 0,
      metadata,
    };
    await this.clients.save(record, clientTtl(record, this.env.UNUSED_CLIENT_LIFETIME, now));
    registrations.inc({ kind: 'dcr' });
    return this.information(record, registrationToken, clientSecret);
  }

  /**
   * RFC 7592 §2: the registration access token authenticates every management request. An unknown (or
   * deleted, or expired) client answers exactly like a wrong token, 401 `invalid_token` (§2.1, §2.2 say the
   * server MUST answer 401 for a client that does not exist), so the endpoint never reveals which ids exist.
   */
  public async authenticate(
    clientId: string,
    authorization: string | undefined,
  ): Promise<{ client: ClientRecord; token: string }> {
    const token = bearerToken(authorization);
    const client = await this.clients.get(clientId);
    const valid = matchesHash(token, client?.registrationTokenHash ?? UNKNOWN_CLIENT_HASH);
    if (!client || !valid) {
      throw new OAuthError('invalid_token', 'the registration access token is not valid for this client', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        cause: client ? 'wrong registration access token' : 'unknown client',
      });
    }
    return { client, token };
  }

  /** RFC 7592 §2.1: the current registration. The presented token is still valid, so it is returned as is. */
  public read(client: ClientRecord, token: string): ClientInformation {
    return this.information(client, token);
  }

  /**
   * RFC 7592 §2.2: PUT replaces the whole registration (fields left out fall back to their defaults, not
   * to the old values). `client_id` must be repeated, a `client_secret` sent must be the current one.
   * The registration access token is rotated (§3); the client's lifetime is unchanged, so the storage TTL
   * and `client_secret_expires_at` stay in step (RFC 7591 §3.2.1; docs/security.md S10).
   */
  public async replace(client: ClientRecord, body: unknown): Promise<ClientInformation> {
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (fields['client_id'] !== client.clientId)
      throw new OAuthError('invalid_request', 'client_id in the body must equal the client being updated');
    const sentSecret = fields['client_secret'];
    if (
      sentSecret !== undefined &&
      (typeof sentSecret !== 'string' || !client.clientSecretHash || !matchesHash(sentSecret, client.clientSecretHash))
    ) {
      throw new OAuthError(
        'invalid_request',
        'client_secret does not match the current secret; it cannot be changed by PUT',
      );
    }
    const metadata = validateClientMetadata(body);
    // Becoming confidential needs a secret; becoming public drops it. Otherwise the secret is kept.
    let clientSecret: string | undefined;
    let clientSecretHash = client.clientSecretHash;
    if (metadata.token_endpoint_auth_method === 'none') clientSecretHash = undefined;
    else if (!clientSecretHash) {
      clientSecret = randomToken();
      clientSecretHash = hashSecret(clientSecret);
    }
    const registrationToken = randomToken();
    const updated: ClientRecord = {
      clientId: client.clientId,
      ...(clientSecretHash ? { clientSecretHash } : {}),
      registrationTokenHash: hashSecret(registrationToken),
      issuedAt: client.issuedAt,
      expiresAt: client.expiresAt,
      ...(client.usedAt !== undefined ? { usedAt: client.usedAt } : {}),
      metadata,
    };
    await this.clients.save(updated, clientTtl(updated, this.env.UNUSED_CLIENT_LIFETIME));
    return this.information(updated, registrationToken, clientSecret);
  }

  /** RFC 7592 §2.3: the client, its grants and tokens are gone. */
  public async delete(client: ClientRecord): Promise<void> {
    await this.clients.delete(client.clientId);
  }

  private information(client: ClientRecord, registrationToken: string, clientSecret?: string): ClientInformation {
    const confidential = client.metadata.token_endpoint_auth_method !== 'none';
    return {
      ...client.metadata,
      client_id: client.clientId,
      client_id_issued_at: client.issuedAt,
      // A stored secret exists only as a hash: it is returned when issued, never again (docs/auth.md).
      ...(clientSecret ? { client_secret: clientSecret } : {}),
      ...(confidential ? { client_secret_expires_at: client.expiresAt } : {}),
      registration_access_token: registrationToken,
      registration_client_uri: `${this.topology.issuer}${ENDPOINT_PATHS.registration}/${encodeURIComponent(client.clientId)}`,
    };
  }
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, scheme case-insensitive (RFC 9110 §11.1). */
function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? '');
  if (!match?.[1]) {
    throw new OAuthError(
      'invalid_token',
      'this endpoint needs the registration access token: Authorization: Bearer <registration_access_token>',
      {
        headers: { 'www-authenticate': 'Bearer' },
      },
    );
  }
  return match[1];
}
