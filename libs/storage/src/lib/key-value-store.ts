export interface SetOptions {
  /** Expire the key after this many seconds (omit for no expiry). */
  readonly ttlSeconds?: number;
  /** Write only when the key does not exist yet (Redis `SET NX`). */
  readonly onlyIfAbsent?: boolean;
}

/**
 * The storage contract shared by the Redis and the memory implementation. Keys are namespaced by
 * the store's prefix, values are strings (JSON helpers below). Every operation is atomic on its own.
 * Abstract class rather than interface so that it doubles as Nest's injection token.
 */
export abstract class KeyValueStore {
  public abstract readonly kind: 'redis' | 'memory';
  public abstract get(key: string): Promise<string | null>;
  /** Returns false when `onlyIfAbsent` was set and the key already existed. */
  public abstract set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Reads and deletes in one step: of concurrent callers, exactly one gets the value (single-use codes). */
  public abstract take(key: string): Promise<string | null>;
  /** Deletes keys; returns how many existed. */
  public abstract delete(...keys: string[]): Promise<number>;
  /** Seconds left: -1 when the key has no expiry, -2 when it does not exist (Redis `TTL`). */
  public abstract ttl(key: string): Promise<number>;
  /** Sets a live key's expiry to `ttlSeconds` from now without rewriting it (Redis `EXPIRE`); false when it does not exist. */
  public abstract expire(key: string, ttlSeconds: number): Promise<boolean>;
  /** Adds 1 and returns the new value; the first increment starts a `ttlSeconds` window (rate limits). */
  public abstract increment(key: string, ttlSeconds: number): Promise<number>;
  /** Adds members to a set; with `ttlSeconds` the whole set expires then (extended on every add). */
  public abstract setAdd(key: string, members: readonly string[], ttlSeconds?: number): Promise<void>;
  public abstract setMembers(key: string): Promise<string[]>;
  public abstract setRemove(key: string, members: readonly string[]): Promise<void>;
  /** Throws when the backing store cannot answer (readiness). */
  public abstract ping(): Promise<void>;

  public async getJson<T>(key: string): Promise<T | null> {
    const raw = await this.get(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  public setJson(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.set(key, JSON.stringify(value), options);
  }

  public async takeJson<T>(key: string): Promise<T | null> {
    const raw = await this.take(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  }
}

/**
 * The store cannot answer (Redis down, frozen or failing). Callers answer 503 with Retry-After (RFC 9110 §15.6.4)
 * instead of a 500; `cause` holds the driver's error, for the logs only.
 */
export class StorageUnavailableError extends Error {
  public constructor(cause: unknown) {
    super('storage unavailable', { cause });
    this.name = 'StorageUnavailableError';
  }
}
