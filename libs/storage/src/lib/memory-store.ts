import { KeyValueStore, type SetOptions } from './key-value-store';

interface Entry {
  value: string | Set<string>;
  expiresAt?: number;
}

/**
 * In-process store for one machine and no Redis (`npm start`). Same contract as Redis;
 * nothing survives a restart and nothing is shared between processes.
 */
export class MemoryStore extends KeyValueStore {
  public readonly kind = 'memory' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  public constructor(
    private readonly prefix = '',
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.#sweeper = setInterval(() => this.#sweep(), 30_000);
    this.#sweeper.unref();
  }

  public async get(key: string): Promise<string | null> {
    const entry = this.#live(key);
    return typeof entry?.value === 'string' ? entry.value : null;
  }

  public async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    if (options.onlyIfAbsent && this.#live(key)) return false;
    this.#entries.set(this.prefix + key, { value, expiresAt: this.#expiry(options.ttlSeconds) });
    return true;
  }

  public async take(key: string): Promise<string | null> {
    // Read and delete with no await in between: atomic within the event loop.
    const entry = this.#live(key);
    if (typeof entry?.value !== 'string') return null;
    this.#entries.delete(this.prefix + key);
    return entry.value;
  }

  public async delete(...keys: string[]): Promise<number> {
    let count = 0;
    for (const key of keys) {
      if (this.#live(key)) count++;
      this.#entries.delete(this.prefix + key);
    }
    return count;
  }

  public async ttl(key: string): Promise<number> {
    const entry = this.#live(key);
    if (!entry) return -2;
    return entry.expiresAt === undefined ? -1 : Math.ceil((entry.expiresAt - this.now()) / 1000);
  }

  public async expire(key: string, ttlSeconds: number): Promise<boolean> {
    const entry = this.#live(key);
    if (!entry) return false;
    entry.expiresAt = this.#expiry(ttlSeconds);
    return true;
  }

  public async increment(key: string, ttlSeconds: number): Promise<number> {
    const entry = this.#live(key);
    const next = (entry && typeof entry.value === 'string' ? Number(entry.value) : 0) + 1;
    this.#entries.set(this.prefix + key, {
      value: String(next),
      expiresAt: entry ? entry.expiresAt : this.#expiry(ttlSeconds),
    });
    return next;
  }

  public async setAdd(key: string, members: readonly string[], ttlSeconds?: number): Promise<void> {
    const entry = this.#live(key);
    const set = entry?.value instanceof Set ? entry.value : new Set<string>();
    for (const member of members) set.add(member);
    this.#entries.set(this.prefix + key, {
      value: set,
      expiresAt: ttlSeconds === undefined ? entry?.expiresAt : this.#expiry(ttlSeconds),
    });
  }

  public async setMembers(key: string): Promise<string[]> {
    const entry = this.#live(key);
    return entry?.value instanceof Set ? [...entry.value] : [];
  }

  public async setRemove(key: string, members: readonly string[]): Promise<void> {
    const entry = this.#live(key);
    if (!(entry?.value instanceof Set)) return;
    for (const member of members) entry.value.delete(member);
    if (entry.value.size === 0) this.#entries.delete(this.prefix + key);
  }

  public async ping(): Promise<void> {
    // Always reachable: it lives in this process.
  }

  /** Stops the background sweep (tests, shutdown). */
  public close(): void {
    clearInterval(this.#sweeper);
  }

  #expiry(ttlSeconds?: number): number | undefined {
    return ttlSeconds === undefined ? undefined : this.now() + ttlSeconds * 1000;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(this.prefix + key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.#entries.delete(this.prefix + key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}
