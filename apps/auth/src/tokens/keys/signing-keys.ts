import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import type { JWK } from 'jose';
import { AuthEnv } from '../../config/auth.env';
import {
  activationOf,
  fromConfiguredPem,
  fromStored,
  generateSigningKey,
  type SigningAlgorithm,
  type SigningKey,
  type StoredSigningKey,
} from './key-material';

/** Storage key of the key ring (newest key first). */
export const KEY_RING_KEY = 'signing-keys';
/** An unknown `kid` triggers an early re-read, at most this often (a flood of forged kids costs nothing). */
const UNKNOWN_KID_RELOAD_MS = 5_000;

export interface KeyRing {
  /** Newest first: pending keys (not signing yet), then the signing key, then retiring keys. */
  readonly keys: readonly StoredSigningKey[];
}

/** The time source of the key ring, replaced in tests. */
export class KeyClock {
  public nowSeconds(): number {
    return nowSeconds();
  }
}

/** How long a ring's keys live around a rotation, in seconds. */
export interface RingTimings {
  /** ACCESS_TOKEN_LIFETIME: a retiring key is kept until every token it signed has expired. */
  readonly accessTokenLifetime: number;
  /** KEY_RING_RELOAD_INTERVAL: how stale a replica's copy of the ring may be. */
  readonly reloadInterval: number;
}

/**
 * The signing keys. Either the one key of JWT_PRIVATE_KEY, or a ring kept in storage: generated on first
 * start (written with onlyIfAbsent, so concurrent replicas agree on one key) and extended by the rotation
 * command (rotate-keys.ts) with a key that activates later.
 *
 * Staged rotation: a new key is published (in /jwks, and accepted by /verify) as soon as a replica has read
 * the ring, but signs only from its activation time, two reload intervals after the rotation. So every
 * replica accepts a key before any replica signs with it, and no valid token is ever refused. The signing
 * key is chosen by the clock at each signature, not at reload, so replicas switch together. Older keys stay
 * published until every token they signed has expired.
 */
@Injectable()
export class SigningKeys implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeys.name);
  /** Every published key (pending, signing and retiring), newest first. */
  private keys: readonly SigningKey[] = [];
  /** The ring as last read from storage. */
  private ring?: KeyRing;
  private timer?: NodeJS.Timeout;
  private lastUnknownKidReload = Number.NEGATIVE_INFINITY;
  private readonly clock: KeyClock;

  public constructor(
    private readonly store: KeyValueStore,
    private readonly env: AuthEnv,
    @Optional() clock?: KeyClock,
  ) {
    this.clock = clock ?? new KeyClock();
  }

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
      this.env.KEY_RING_RELOAD_INTERVAL * 1000,
    );
    this.timer.unref();
  }

  public onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The key new tokens are signed with: the newest active one (loads the ring if storage was down at start). */
  public async signingKey(): Promise<SigningKey> {
    await this.loaded();
    const key = this.keys[signingIndex(this.keys, this.clock.nowSeconds())];
    if (!key) throw new Error('no signing key');
    return key;
  }

  /** The key for a token's `kid`, re-reading the ring (throttled) when it is unknown. */
  public async forKid(kid: string | undefined): Promise<SigningKey | undefined> {
    const found = this.keys.find((key) => key.kid === kid);
    if (found || !kid || this.env.JWT_PRIVATE_KEY) return found;
    const now = Date.now();
    if (now - this.lastUnknownKidReload < UNKNOWN_KID_RELOAD_MS) return undefined;
    this.lastUnknownKidReload = now;
    await this.reload();
    return this.keys.find((key) => key.kid === kid);
  }

  /** RFC 7517 JWK Set of every key whose tokens may be valid now or soon (pending keys included). */
  public async jwks(): Promise<{ keys: JWK[] }> {
    await this.loaded();
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  /** Re-reads the ring now (the periodic reload does this every KEY_RING_RELOAD_INTERVAL). */
  public async reload(): Promise<void> {
    let ring = this.keys.length === 0 ? await this.ensureRing() : await this.store.getJson<KeyRing>(KEY_RING_KEY);
    if (!ring?.keys.length && this.ring) {
      // Storage lost the ring (a Redis without persistence restarted): put ours back so that replicas agree.
      await this.store.setJson(KEY_RING_KEY, this.ring, { onlyIfAbsent: true });
      ring = await this.store.getJson<KeyRing>(KEY_RING_KEY);
    }
    if (!ring?.keys.length) return;
    this.ring = ring;
    const live = liveKeys(ring.keys, this.timings(), this.clock.nowSeconds());
    if (live.map((key) => key.kid).join() === this.keys.map((key) => key.kid).join()) return;
    this.keys = await Promise.all(live.map(fromStored));
    const current = this.keys[signingIndex(this.keys, this.clock.nowSeconds())];
    if (current && current.alg !== this.env.JWT_ALGORITHM) {
      this.logger.warn(
        `the current signing key is ${current.alg} but JWT_ALGORITHM=${this.env.JWT_ALGORITHM}: run the rotate-keys command`,
      );
    }
    const pending = this.keys.filter((key) => key.activatesAt > this.clock.nowSeconds());
    this.logger.log(
      `signing key ${current?.kid} (${current?.alg}); published: ${this.keys.map((key) => key.kid).join(', ')}` +
        pending.map((key) => `; ${key.kid} signs from ${new Date(key.activatesAt * 1000).toISOString()}`).join(''),
    );
  }

  private timings(): RingTimings {
    return { accessTokenLifetime: this.env.ACCESS_TOKEN_LIFETIME, reloadInterval: this.env.KEY_RING_RELOAD_INTERVAL };
  }

  private async loaded(): Promise<void> {
    if (this.keys.length === 0) await this.reload();
  }

  private async ensureRing(): Promise<KeyRing> {
    const existing = await this.store.getJson<KeyRing>(KEY_RING_KEY);
    if (existing?.keys.length) return existing;
    const key = await generateSigningKey(this.env.JWT_ALGORITHM, this.clock.nowSeconds());
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
}

/**
 * Index of the key that signs at `now`: the newest whose activation has come. A ring whose keys are all
 * pending (only if an operator staged the very first key) signs with its oldest.
 */
export function signingIndex(
  keys: readonly Pick<StoredSigningKey, 'createdAt' | 'activatesAt'>[],
  now: number,
): number {
  const index = keys.findIndex((key) => activationOf(key) <= now);
  return index === -1 ? keys.length - 1 : index;
}

/**
 * Keys still needed at `now`: pending keys, the signing key, and each older key until every token it may
 * have signed has expired, i.e. until its successor's activation + the access-token lifetime + one reload
 * interval (a replica that had not re-read the ring yet may have kept signing with it a little longer).
 */
export function liveKeys(keys: readonly StoredSigningKey[], timings: RingTimings, now: number): StoredSigningKey[] {
  const signing = signingIndex(keys, now);
  const slack = timings.accessTokenLifetime + timings.reloadInterval;
  return keys.filter((_, index) => {
    const successor = keys[index - 1];
    return index <= signing || (successor !== undefined && now < activationOf(successor) + slack);
  });
}

export interface Rotation {
  readonly added: string;
  /** Seconds since the epoch from which the added key signs. */
  readonly activatesAt: number;
  /** Keys still published after the rotation, newest first (the added key excluded). */
  readonly kept: string[];
}

/**
 * Adds a new signing key in front of the ring, to sign from `now + activateIn`, and drops keys no longer
 * needed. Run by the rotate-keys command (one operator action at a time; not meant to race with itself).
 * `activateIn` defaults to two reload intervals: every replica has re-read the ring, and so accepts the
 * key, before any replica signs with it. 0 activates at once (an emergency: replicas that have not re-read
 * the ring yet accept the new key only after their throttled unknown-kid reload).
 */
export async function rotateKeyRing(
  store: KeyValueStore,
  alg: SigningAlgorithm,
  timings: RingTimings,
  options: { readonly now?: number; readonly activateIn?: number } = {},
): Promise<Rotation> {
  const now = options.now ?? nowSeconds();
  const ring = (await store.getJson<KeyRing>(KEY_RING_KEY)) ?? { keys: [] };
  const generated = await generateSigningKey(alg, now);
  // The first key of a ring has no predecessor to keep signing meanwhile: it signs at once.
  const activateIn = ring.keys.length === 0 ? 0 : (options.activateIn ?? 2 * timings.reloadInterval);
  const added: StoredSigningKey = { ...generated, activatesAt: now + activateIn };
  const keys = liveKeys([added, ...ring.keys], timings, now);
  await store.setJson(KEY_RING_KEY, { keys } satisfies KeyRing);
  return { added: added.kid, activatesAt: now + activateIn, kept: keys.slice(1).map((key) => key.kid) };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
