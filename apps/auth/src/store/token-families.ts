import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import { AuthEnv } from '../config/auth.env';
import { ClientStore } from './client.store';
import { RevokedTokens } from './revoked-tokens';
import { hashSecret, type UserIdentity } from './records';

/**
 * Key `family:{id}`: one grant (one code redemption) and everything issued from it. Refresh tokens and
 * access tokens point at their family; deleting it revokes them all.
 */
export interface TokenFamily {
  readonly clientId: string;
  readonly user: UserIdentity;
  /** RFC 8707 resource (token `aud`). */
  readonly resource: string;
  /** The scope granted at consent; refreshes can narrow access tokens but never widen this. */
  readonly scope: string;
  readonly createdAt: number;
}

/** Key `refresh:{sha256(token)}`: a live (not yet rotated) refresh token. */
export interface RefreshTokenRecord {
  readonly familyId: string;
  readonly clientId: string;
  readonly issuedAt: number;
}

/** Key `refresh-rotated:{sha256(token)}`: a refresh token that was rotated, and to what. */
interface RotatedRefreshRecord {
  readonly familyId: string;
  readonly rotatedAt: number;
  /** The successor, encrypted with a key derived from the rotated token (storage never holds it in clear). */
  readonly successor: string;
}

export type RotationOutcome =
  | {
      readonly kind: 'rotated' | 'grace';
      readonly familyId: string;
      readonly family: TokenFamily;
      readonly refreshToken: string;
    }
  | { readonly kind: 'reused'; readonly familyId: string }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'other-client' };

/**
 * Token families and refresh-token rotation (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2): every refresh replaces
 * the refresh token; presenting a rotated token again revokes the whole family, except within
 * REFRESH_GRACE_SECONDS where concurrent refreshes (real clients race) get the same successor.
 * The arbiter between concurrent refreshes on any replica is one `SET NX` on `refresh-rotated:{hash}`.
 */
@Injectable()
export class TokenFamilies {
  public constructor(
    private readonly store: KeyValueStore,
    private readonly revoked: RevokedTokens,
    private readonly clients: ClientStore,
    private readonly env: AuthEnv,
  ) {}

  public async create(family: TokenFamily): Promise<string> {
    const familyId = randomBytes(12).toString('base64url');
    await this.store.setJson(`family:${familyId}`, family, { ttlSeconds: this.familyLifetime });
    // RFC 7592 DELETE of the client deletes the family, so its refresh tokens stop working.
    await this.clients.track(family.clientId, `family:${familyId}`, this.familyLifetime);
    return familyId;
  }

  /** A family outlives its newest refresh token and its newest access token (which /verify resolves through it). */
  private get familyLifetime(): number {
    return Math.max(this.env.REFRESH_TOKEN_LIFETIME, this.env.ACCESS_TOKEN_LIFETIME);
  }

  public get(familyId: string): Promise<TokenFamily | null> {
    return this.store.getJson<TokenFamily>(`family:${familyId}`);
  }

  /** Remembers an access token of the family, so that revoking the family revokes it too. */
  public async addAccessToken(familyId: string, jti: string): Promise<void> {
    await this.store.setAdd(`family-jtis:${familyId}`, [jti], this.env.ACCESS_TOKEN_LIFETIME);
  }

  /** Revokes the family: its refresh tokens stop working and its access tokens are marked revoked. */
  public async revoke(familyId: string): Promise<void> {
    const jtis = await this.store.setMembers(`family-jtis:${familyId}`);
    await Promise.all(jtis.map((jti) => this.revoked.revoke(jti, this.env.ACCESS_TOKEN_LIFETIME)));
    await this.store.delete(`family:${familyId}`, `family-jtis:${familyId}`);
  }

  public async issueRefreshToken(familyId: string, clientId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const record: RefreshTokenRecord = { familyId, clientId, issuedAt: nowSeconds() };
    await this.store.setJson(`refresh:${hashSecret(token)}`, record, { ttlSeconds: this.env.REFRESH_TOKEN_LIFETIME });
    return token;
  }

  /** The live refresh token's record (introspection, revocation). */
  public findRefreshToken(token: string): Promise<RefreshTokenRecord | null> {
    return this.store.getJson<RefreshTokenRecord>(`refresh:${hashSecret(token)}`);
  }

  /** The family of a refresh token, live or rotated (revocation of either revokes the family). */
  public async familyOfRefreshToken(token: string): Promise<{ familyId: string; clientId: string } | undefined> {
    const hash = hashSecret(token);
    const live = await this.store.getJson<RefreshTokenRecord>(`refresh:${hash}`);
    if (live) return { familyId: live.familyId, clientId: live.clientId };
    const rotated = await this.store.getJson<RotatedRefreshRecord>(`refresh-rotated:${hash}`);
    const family = rotated ? await this.get(rotated.familyId) : null;
    return rotated && family ? { familyId: rotated.familyId, clientId: family.clientId } : undefined;
  }

  /** Rotates `presented` for `clientId`. The caller re-checks policy and scope on the returned family. */
  public async rotate(presented: string, clientId: string): Promise<RotationOutcome> {
    const hash = hashSecret(presented);
    const record = await this.store.getJson<RefreshTokenRecord>(`refresh:${hash}`);
    if (!record) return this.afterRotation(presented, hash, clientId);
    // RFC 6749 §6 (docs/security.md S2): a refresh token works only for the client it was issued to.
    if (record.clientId !== clientId) return { kind: 'other-client' };
    const family = await this.get(record.familyId);
    if (!family) return { kind: 'unknown' };

    // Write the successor first, then claim the rotation: of concurrent refreshes exactly one claim wins,
    // the others find the winner's successor in the claim record.
    const successor = await this.issueRefreshToken(record.familyId, clientId);
    const claim: RotatedRefreshRecord = {
      familyId: record.familyId,
      rotatedAt: nowSeconds(),
      successor: seal(successor, presented),
    };
    const won = await this.store.setJson(`refresh-rotated:${hash}`, claim, {
      ttlSeconds: this.env.REFRESH_TOKEN_LIFETIME,
      onlyIfAbsent: true,
    });
    if (!won) {
      await this.store.delete(`refresh:${hashSecret(successor)}`);
      return this.afterRotation(presented, hash, clientId);
    }
    await this.store.delete(`refresh:${hash}`);
    // Renew the family with EXPIRE, never by writing it back: a /revoke or reuse detection that deleted it
    // since we read it must win (RFC 9700 §4.14.2; docs/security.md S33). EXPIRE cannot create a key.
    if (!(await this.store.expire(`family:${record.familyId}`, this.familyLifetime))) {
      await this.store.delete(`refresh:${hashSecret(successor)}`);
      return { kind: 'unknown' };
    }
    return { kind: 'rotated', familyId: record.familyId, family, refreshToken: successor };
  }

  /** A token that is no longer live: within the grace window its successor, after it a reuse. */
  private async afterRotation(presented: string, hash: string, clientId: string): Promise<RotationOutcome> {
    const rotated = await this.store.getJson<RotatedRefreshRecord>(`refresh-rotated:${hash}`);
    if (!rotated) return { kind: 'unknown' };
    const family = await this.get(rotated.familyId);
    if (!family) return { kind: 'unknown' };
    if (family.clientId !== clientId) return { kind: 'other-client' };
    if (nowSeconds() - rotated.rotatedAt > this.env.REFRESH_GRACE_SECONDS)
      return { kind: 'reused', familyId: rotated.familyId };
    return { kind: 'grace', familyId: rotated.familyId, family, refreshToken: unseal(rotated.successor, presented) };
  }
}

// AES-256-GCM under SHA-256("refresh-successor" ‖ rotated token): only a holder of the rotated token can
// read its successor, and only within the grace window does the server hand it out.
function sealKey(presented: string): Buffer {
  return createHash('sha256').update('refresh-successor\0').update(presented).digest();
}

function seal(successor: string, presented: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(presented), iv);
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function unseal(sealed: string, presented: string): string {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', sealKey(presented), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
