import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import { AuthEnv } from '../config/auth.env';
import { type AuthorizationCodeRecord, hashSecret } from './records';
import { TokenFamilies } from './token-families';

/** RFC 6749 §4.1.2: a code lives at most 10 minutes, whatever the store's TTL says. */
const CODE_MAX_AGE_SECONDS = 600;
/** Members of `code-used:{hash}` besides family ids (which are base64url and never these words). */
const CODE_TAKEN = 'taken';
const CODE_REUSED = 'reused';

/** What redeeming a code found. */
export type CodeRedemption =
  /**
   * First and only redemption: the record, whether it outlived RFC 6749 §4.1.2's 10 minutes, and `bindFamily`,
   * which ties the grant issued from the code to it once its tokens exist (false, with the family revoked, when a
   * replay raced the redemption).
   */
  | {
      readonly kind: 'redeemed';
      readonly record: AuthorizationCodeRecord;
      readonly expired: boolean;
      readonly bindFamily: (familyId: string) => Promise<boolean>;
    }
  /** Never issued, expired in storage, or guessed: nothing was written. */
  | { readonly kind: 'unknown' }
  /** Presented again after a redemption: every family issued from it is now revoked (RFC 6749 §4.1.2). */
  | { readonly kind: 'replayed'; readonly revokedFamilies: readonly string[] };

/**
 * Authorization codes, the one hand-off between the authorization wing (which issues them) and the token
 * wing (which redeems them). Keys `code:{sha256(code)}` (the record, taken once) and `code-used:{sha256(code)}`
 * (a set: `taken`, the family issued from the code, `reused` once replayed); see storage-schema.md.
 */
@Injectable()
export class AuthorizationCodes {
  public constructor(
    private readonly store: KeyValueStore,
    private readonly families: TokenFamilies,
    private readonly env: AuthEnv,
  ) {}

  /** Stores the record under a fresh code and returns the code (RFC 6749 §4.1.2: short-lived, single use). */
  public async issue(record: Omit<AuthorizationCodeRecord, 'issuedAt'>): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    const stored: AuthorizationCodeRecord = { ...record, issuedAt: nowSeconds() };
    await this.store.setJson(`code:${hashSecret(code)}`, stored, { ttlSeconds: this.env.AUTHORIZATION_CODE_LIFETIME });
    return code;
  }

  /** Redeems `code` at most once, atomically across replicas; a replay revokes what the code issued. */
  public async redeem(code: string): Promise<CodeRedemption> {
    const codeHash = hashSecret(code);
    // Mark the code redeemed before taking it, so that a replay losing the take below always finds the mark.
    if ((await this.store.get(`code:${codeHash}`)) !== null) await this.mark(codeHash, CODE_TAKEN);
    // Atomic single use (GETDEL): of concurrent redemptions exactly one gets the record.
    const record = await this.store.takeJson<AuthorizationCodeRecord>(`code:${codeHash}`);
    if (record) {
      const expired = nowSeconds() - record.issuedAt > CODE_MAX_AGE_SECONDS;
      return { kind: 'redeemed', record, expired, bindFamily: (familyId) => this.bindFamily(codeHash, familyId) };
    }
    // Only codes that were redeemed here have a set; a guessed code writes nothing.
    if ((await this.store.setMembers(`code-used:${codeHash}`)).length === 0) return { kind: 'unknown' };
    const revokedFamilies = (await this.mark(codeHash, CODE_REUSED)).filter(
      (member) => member !== CODE_TAKEN && member !== CODE_REUSED,
    );
    await Promise.all(revokedFamilies.map((familyId) => this.families.revoke(familyId)));
    return { kind: 'replayed', revokedFamilies };
  }

  /** A replay that raced the redemption marked the code before the family was bound: revoke the family. */
  private async bindFamily(codeHash: string, familyId: string): Promise<boolean> {
    if (!(await this.mark(codeHash, familyId)).includes(CODE_REUSED)) return true;
    await this.families.revoke(familyId);
    return false;
  }

  /** Both sides add, then read, so whichever comes second sees the other (no lost race). */
  private async mark(codeHash: string, member: string): Promise<string[]> {
    const key = `code-used:${codeHash}`;
    await this.store.setAdd(key, [member], this.env.REFRESH_TOKEN_LIFETIME);
    return this.store.setMembers(key);
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
