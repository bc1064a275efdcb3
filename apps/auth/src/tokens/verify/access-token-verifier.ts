import { hash, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { errors, type JWTHeaderParameters, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { SigningKeys } from '../keys/signing-keys';
import type { UserIdentity } from '../../store/records';
import { familyOfJti } from '../access-token-issuer';
import { TokenFamilies } from '../../store/token-families';
import { TOPOLOGY } from '../../config/topology.provider';

/** A signature-checked, unexpired access token of this issuer, with its user's full identity. */
export interface VerifiedAccessToken {
  readonly sub: string;
  readonly aud: string;
  readonly clientId: string;
  readonly scope: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly iss: string;
  /** The identity as the grant recorded it (incl. organisations/teams for the access policy). */
  readonly user: UserIdentity;
}

/** Entries of the verified-token cache. Memory bound: ~10k × ~1 KiB. */
const CACHE_SIZE = 10_000;

/**
 * Verifies access tokens for /verify and /introspect. The expensive part (RS256/ES256 signature through
 * jose, ~100 µs, plus one storage read of the grant) is cached per token, keyed by SHA-256 of the token,
 * until the token's `exp`. Nothing that can change is cached here: callers check revocation (`revoked:{jti}`,
 * store/revoked-tokens.ts) on every call, and a revoked grant also marks every token of it revoked.
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly cache = new LRUCache<string, VerifiedAccessToken>({ max: CACHE_SIZE });

  public constructor(
    private readonly keys: SigningKeys,
    private readonly families: TokenFamilies,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  /** The claims of a token verified before and still unexpired, synchronously; undefined otherwise (call `verify`). */
  public cached(token: string): VerifiedAccessToken | undefined {
    const cached = this.cache.get(cacheKeyOf(token));
    return cached && cached.exp * 1000 > Date.now() ? cached : undefined;
  }

  /** The token's claims, or undefined when it is not a valid, unexpired access token of this issuer. */
  public async verify(token: string): Promise<VerifiedAccessToken | undefined> {
    const cacheKey = cacheKeyOf(token);
    const cached = this.cache.get(cacheKey);
    if (cached) {
      if (cached.exp * 1000 > Date.now()) return cached;
      this.cache.delete(cacheKey);
      return undefined;
    }
    const verified = await this.verifyUncached(token);
    if (verified) this.cache.set(cacheKey, verified, { ttl: Math.max(1, verified.exp * 1000 - Date.now()) });
    return verified;
  }

  private async verifyUncached(token: string): Promise<VerifiedAccessToken | undefined> {
    let payload: Record<string, unknown>;
    try {
      // RFC 9068 §4: check typ, iss, exp, signature with the key named by kid; aud is the caller's (per service).
      ({ payload } = await jwtVerify(token, (header) => this.keyFor(header), {
        issuer: this.topology.issuer,
        typ: 'at+jwt',
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      }));
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
    const { sub, aud, client_id: clientId, scope, iat, exp, jti, iss } = payload;
    if (typeof sub !== 'string' || typeof aud !== 'string' || typeof clientId !== 'string' || typeof jti !== 'string')
      return undefined;
    if (typeof iat !== 'number' || typeof exp !== 'number' || typeof iss !== 'string') return undefined;
    // The grant carries the full identity; a revoked or expired grant means the token is dead too.
    const family = await this.families.get(familyOfJti(jti));
    if (!family || family.clientId !== clientId || family.user.sub !== sub) return undefined;
    return { sub, aud, clientId, scope: typeof scope === 'string' ? scope : '', iat, exp, jti, iss, user: family.user };
  }

  private async keyFor(header: JWTHeaderParameters): Promise<KeyObject> {
    const key = await this.keys.forKid(header.kid);
    if (!key || key.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
    return key.publicKey;
  }
}

/** The cache holds no token, only its SHA-256. */
function cacheKeyOf(token: string): string {
  return hash('sha256', token, 'base64url'); // one-shot: no Hash object per call (the hot path's largest cost)
}
