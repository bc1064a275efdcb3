import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { OAuthError } from '@gateway/oauth';
import { KeyValueStore } from '@gateway/storage';
import { createLocalJWKSet, decodeJwt, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { AuthEnv } from '../config/auth.env';
import { TOPOLOGY } from '../config/topology.provider';
import { ENDPOINT_PATHS } from '../http/endpoints';
import type { ClientRecord } from '../store/records';
import { DOCUMENT_FETCHER } from './client-metadata-documents';
import type { DocumentFetcher } from './document-fetcher';

/** RFC 7523 §2.2: the only assertion type accepted. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RS256 (what ChatGPT signs with) and ES256; `none` and HMAC are never accepted. */
export const ASSERTION_ALGORITHMS = ['RS256', 'ES256'] as const;
/** An assertion may live at most this long (exp - now), so a stolen one is short-lived and the jti store small. */
const MAX_LIFETIME_SECONDS = 300;
/** Clock skew tolerated on exp / nbf / iat. */
const CLOCK_TOLERANCE_SECONDS = 30;
const JWKS_TTL_MS = 5 * 60_000;

/** The `sub` of an assertion, read without verifying it (to find the client whose keys verify it). */
export function assertionSubject(assertion: string): string | undefined {
  try {
    const sub = decodeJwt(assertion).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * private_key_jwt client authentication (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OIDC Core §9): a JWT signed with a
 * key of the client's `jwks` or `jwks_uri` (fetched through the guarded fetcher, cached), `iss` = `sub` = the
 * client_id, `aud` = the token endpoint URL or the issuer (or the URL of the endpoint called), a short `exp`, and
 * a `jti` used once (key `client-assertion:{sha256(client_id jti)}`, kept until the assertion expires).
 */
@Injectable()
export class ClientAssertionVerifier {
  private readonly keySets: LRUCache<string, JSONWebKeySet>;

  public constructor(
    private readonly store: KeyValueStore,
    @Inject(DOCUMENT_FETCHER) private readonly fetcher: DocumentFetcher,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
    env: AuthEnv,
  ) {
    this.keySets = new LRUCache({ max: env.CLIENT_DOCUMENT_CACHE_SIZE, ttl: JWKS_TTL_MS });
  }

  /**
   * Resolves when the assertion authenticates `client` at `endpointPath` (the path called, under the gateway
   * issuer: `/token`, `/as/<name>/token`, `/revoke`...); otherwise 401 invalid_client.
   */
  public async verify(client: ClientRecord, assertion: string, endpointPath: string): Promise<void> {
    const issuer = this.topology.issuer;
    // RFC 7523 §3: the audience identifies this server: the gateway's token endpoint or issuer, the endpoint
    // called, or the issuer of the authorization server that endpoint belongs to (a service's own,
    // `<issuer>/as/<name>`, whose endpoints sit directly under its issuer path).
    const called = `${issuer}${endpointPath}`;
    const audience = [
      ...new Set([`${issuer}${ENDPOINT_PATHS.token}`, issuer, called, called.slice(0, called.lastIndexOf('/'))]),
    ];
    const options = {
      issuer: client.clientId,
      subject: client.clientId,
      audience,
      algorithms: [...ASSERTION_ALGORITHMS],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    };
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      payload = (await jwtVerify(assertion, createLocalJWKSet(await this.keysOf(client, false)), options)).payload;
    } catch (error) {
      if (error instanceof OAuthError) throw error; // keys unavailable or malformed: already said
      // A key rotated since the JWK Set was cached: fetch it once more before refusing.
      if (!(error instanceof errors.JWKSNoMatchingKey) || !client.metadata.jwks_uri) throw refuse(error);
      try {
        payload = (await jwtVerify(assertion, createLocalJWKSet(await this.keysOf(client, true)), options)).payload;
      } catch (retryError) {
        if (retryError instanceof OAuthError) throw retryError;
        throw refuse(retryError);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = payload.exp as number;
    if (exp - now > MAX_LIFETIME_SECONDS)
      throw refuse(
        `exp is ${exp - now} s away (at most ${MAX_LIFETIME_SECONDS} s)`,
        'the client assertion expires too far in the future',
      );
    // RFC 7523 §3 item 7: the jti may be used only once.
    const key = `client-assertion:${createHash('sha256')
      .update(`${client.clientId} ${String(payload.jti)}`)
      .digest('hex')}`;
    const first = await this.store.set(key, '1', {
      onlyIfAbsent: true,
      ttlSeconds: Math.max(1, exp - now + CLOCK_TOLERANCE_SECONDS),
    });
    if (!first) throw refuse('jti replayed', 'the client assertion was already used (jti)');
  }

  private async keysOf(client: ClientRecord, fresh: boolean): Promise<JSONWebKeySet> {
    const { jwks, jwks_uri: uri } = client.metadata;
    if (jwks) return jwks as unknown as JSONWebKeySet;
    if (!uri) throw refuse('no jwks or jwks_uri', 'this client has no keys (jwks or jwks_uri)');
    const cached = fresh ? undefined : this.keySets.get(uri);
    if (cached) return cached;
    let body: unknown;
    try {
      body = (await this.fetcher.fetchJson(uri)).body;
    } catch (error) {
      throw new OAuthError('temporarily_unavailable', "the client's jwks_uri could not be loaded; try again later", {
        headers: { 'retry-after': '30' },
        cause: (error as Error).message,
      });
    }
    const keys = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw refuse('jwks_uri is not a JWK Set', "the client's jwks_uri is not a JWK Set");
    const set = { keys } as JSONWebKeySet;
    this.keySets.set(uri, set);
    return set;
  }
}

function refuse(cause: unknown, description = 'the client assertion is not valid'): OAuthError {
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  const said =
    cause instanceof errors.JWTExpired
      ? 'the client assertion has expired'
      : cause instanceof errors.JWTClaimValidationFailed
        ? `the client assertion's ${cause.claim} claim is not valid`
        : description;
  return new OAuthError('invalid_client', said, { status: 401, cause: reason });
}
