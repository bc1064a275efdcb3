import type { Redis } from 'ioredis';
import { KeyValueStore, type SetOptions, StorageUnavailableError } from './key-value-store';

/** The production store: one Redis shared by every replica, so any replica serves any request. */
export class RedisStore extends KeyValueStore {
  public readonly kind = 'redis' as const;

  public constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
  ) {
    super();
  }

  public async get(key: string): Promise<string | null> {
    return this.guard(async () => {
      return this.redis.get(this.prefix + key);
    });
  }

  public async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    return this.guard(async () => {
      const k = this.prefix + key;
      const { ttlSeconds, onlyIfAbsent } = options;
      let result: string | null;
      if (ttlSeconds !== undefined && onlyIfAbsent) result = await this.redis.set(k, value, 'EX', ttlSeconds, 'NX');
      else if (ttlSeconds !== undefined) result = await this.redis.set(k, value, 'EX', ttlSeconds);
      else if (onlyIfAbsent) result = await this.redis.set(k, value, 'NX');
      else result = await this.redis.set(k, value);
      return result === 'OK';
    });
  }

  public async take(key: string): Promise<string | null> {
    return this.guard(async () => {
      return this.redis.getdel(this.prefix + key); // GETDEL is atomic (Redis ≥ 6.2)
    });
  }

  public async delete(...keys: string[]): Promise<number> {
    return this.guard(async () => {
      return keys.length === 0 ? 0 : this.redis.del(...keys.map((key) => this.prefix + key));
    });
  }

  public async ttl(key: string): Promise<number> {
    return this.guard(async () => {
      return this.redis.ttl(this.prefix + key);
    });
  }

  public async expire(key: string, ttlSeconds: number): Promise<boolean> {
    return this.guard(async () => {
      return (await this.redis.expire(this.prefix + key, ttlSeconds)) === 1;
    });
  }

  public async increment(key: string, ttlSeconds: number): Promise<number> {
    return this.guard(async () => {
      const k = this.prefix + key;
      // SET NX EX starts the window only once; INCR in the same transaction counts.
      const results = await this.redis.multi().set(k, '0', 'EX', ttlSeconds, 'NX').incr(k).exec();
      const [error, value] = results?.[1] ?? [new Error('increment: empty transaction result'), null];
      if (error) throw error;
      return Number(value);
    });
  }

  public async setAdd(key: string, members: readonly string[], ttlSeconds?: number): Promise<void> {
    return this.guard(async () => {
      if (members.length === 0) return;
      const k = this.prefix + key;
      const transaction = this.redis.multi().sadd(k, ...members);
      if (ttlSeconds !== undefined) transaction.expire(k, ttlSeconds);
      await transaction.exec();
    });
  }

  public async setMembers(key: string): Promise<string[]> {
    return this.guard(async () => {
      return this.redis.smembers(this.prefix + key);
    });
  }

  public async setRemove(key: string, members: readonly string[]): Promise<void> {
    return this.guard(async () => {
      if (members.length > 0) await this.redis.srem(this.prefix + key, ...members);
    });
  }

  public async ping(): Promise<void> {
    return this.guard(async () => {
      await this.redis.ping();
    });
  }

  /** Any failure of Redis (down, frozen past the command timeout, a failed transaction) is a storage outage. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new StorageUnavailableError(error);
    }
  }
}
