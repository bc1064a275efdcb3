import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import type { JWK } from 'jose';
import { AuthEnv } from '../../config/auth.env';
import {
  fromConfiguredPem,
  fromStored,
  generateSigningKey,
  type SigningAlgorithm,
  type SigningKey,
  type StoredSigningKey,
} from './key-material';

/** Storage key of the key ring (newest key first). */
export const KEY_RING_KEY = 'signing-keys';
/** How often a replica re-reads the ring, so that a rotation reaches every replica. */
const RELOAD_INTERVAL_MS = 60_000;
/** An unknown `kid` triggers an early re-read, at most this often (a flood of forged kids costs nothing). */
const UNKNOWN_KID_RELOAD_MS = 5_000;

export interface KeyRing {
  readonly keys: readonly StoredSigningKey[];
}

/**
 * The signing keys. Either the one key of JWT_PRIVATE_KEY, or a ring kept in storage: generated on
 * first start (written with onlyIfAbsent, so concurrent replicas agree on one key) and extended by the
 * rotation command (rotate-keys.ts). The newest key signs; older keys stay published in /jwks and
 * accepted until every token they signed has expired.
 */
@Injectable()
export class SigningKeys implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeys.name);
  private keys: readonly SigningKey[] = [];
  /** The ring as last read from storage. */
  private ring?: KeyRing;
  private timer?: NodeJS.Timeout;
  private lastReload = 0;

  public constructor(
    private readonly store: KeyValueStore,
    private readonly env: AuthEnv,
  ) {}

  public async onModuleInit(): Promise<void> {
    if (this.env.JWT_PRIVATE_KEY) {
      this.keys = [await fromConfiguredPem(this.env.JWT_PRIVATE_KEY, this.env.JWT_ALGORITHM)];
      this.logger.log(`signing with the configured ${this.keys[0]?.alg} key ${this.keys[0]?.kid}`);
      return;
    }
    // Storage may be down at start: auth still starts (not ready), and the ring loads on first use.
    await this.reload().catch((error: unknown) =>
      this.logger.warn(`signing keys not loaded yet (storage unavailable?): ${String(error)}`),
    );
    this.timer = setInterval(
      () => void this.reload().catch((error: unknown) => this.logger.warn(`key ring reload failed: ${String(error)}`)),
      RELOAD_INTERVAL_MS,
    );
    this.timer.unref();
  }

  public onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The key new tokens are signed with (loads the ring if storage was down at start). */
  public async signingKey(): Promise<SigningKey> {
    await this.loaded();
    const key = this.keys[0];
    if (!key) throw new Error('no signing key');
    return key;
  }

  /** The key for a token's `kid`, re-reading the ring (throttled) when it is unknown. */
  public async forKid(kid: string | undefined): Promise<SigningKey | undefined> {
    const found = this.keys.find((key) => key.kid === kid);
    if (found || !kid || this.env.JWT_PRIVATE_KEY || Date.now() - this.lastReload < UNKNOWN_KID_RELOAD_MS) return found;
    await this.reload();
    return this.keys.find((key) => key.kid === kid);
  }

  /** RFC 7517 JWK Set of every key whose tokens may still be valid. */
  public async jwks(): Promise<{ keys: JWK[] }> {
    await this.loaded();
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  private async loaded(): Promise<void> {
    if (this.keys.length === 0) await this.reload();
  }

  private async ensureRing(): Promise<KeyRing> {
    const existing = await this.store.getJson<KeyRing>(KEY_RING_KEY);
    if (existing?.keys.length) return existing;
    const key = await generateSigningKey(this.env.JWT_ALGORITHM, nowSeconds());
    const ring: KeyRing = { keys: [key] };
    // Two replicas starting together both generate; onlyIfAbsent keeps exactly one ring.
    if (await this.store.setJson(KEY_RING_KEY, ring, { onlyIfAbsent: true })) {
      this.logger.log(`generated ${key.alg} signing key ${key.kid} and stored it`);
      return ring;
    }
    const winner = await this.store.getJson<KeyRing>(KEY_RING_KEY);
    if (!winner?.keys.length) throw new Error('the signing key ring vanished while starting');
    return winner;
  }

  /** Reads the ring (creating it on first start) and swaps in the live keys when they changed. */
  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    let ring = this.keys.length === 0 ? await this.ensureRing() : await this.store.getJson<KeyRing>(KEY_RING_KEY);
    if (!ring?.keys.length && this.ring) {
      // Storage lost the ring (a Redis without persistence restarted): put ours back so that replicas agree.
      await this.store.setJson(KEY_RING_KEY, this.ring, { onlyIfAbsent: true });
      ring = await this.store.getJson<KeyRing>(KEY_RING_KEY);
    }
    if (!ring?.keys.length) return;
    this.ring = ring;
    const live = liveKeys(ring.keys, this.env.ACCESS_TOKEN_LIFETIME, nowSeconds());
    if (live.map((key) => key.kid).join() === this.keys.map((key) => key.kid).join()) return;
    this.keys = await Promise.all(live.map(fromStored));
    const [current] = this.keys;
    if (current && current.alg !== this.env.JWT_ALGORITHM) {
      this.logger.warn(
        `the current signing key is ${current.alg} but JWT_ALGORITHM=${this.env.JWT_ALGORITHM}: run the rotate-keys command`,
      );
    }
    this.logger.log(
      `signing key ${current?.kid} (${current?.alg}); published: ${this.keys.map((key) => key.kid).join(', ')}`,
    );
  }
}

/**
 * Keys still needed: the newest, plus each older key until every token it signed has expired, i.e.
 * until its successor's creation + the access-token lifetime + one reload interval (replicas that had
 * not re-read the ring yet kept signing with it).
 */
export function liveKeys(
  keys: readonly StoredSigningKey[],
  accessTokenLifetime: number,
  now: number,
): StoredSigningKey[] {
  const slack = accessTokenLifetime + RELOAD_INTERVAL_MS / 1000;
  return keys.filter((_, index) => index === 0 || now < (keys[index - 1]?.createdAt ?? 0) + slack);
}

/**
 * Adds a new signing key in front of the ring and drops keys no longer needed. Run by the rotate-keys
 * command (one operator action at a time; not meant to race with itself).
 */
export async function rotateKeyRing(
  store: KeyValueStore,
  alg: SigningAlgorithm,
  accessTokenLifetime: number,
): Promise<{ added: string; kept: string[] }> {
  const now = nowSeconds();
  const ring = (await store.getJson<KeyRing>(KEY_RING_KEY)) ?? { keys: [] };
  const added = await generateSigningKey(alg, now);
  const keys = liveKeys([added, ...ring.keys], accessTokenLifetime, now);
  await store.setJson(KEY_RING_KEY, { keys } satisfies KeyRing);
  return { added: added.kid, kept: keys.slice(1).map((key) => key.kid) };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
