import { Injectable } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import { KeyValueStore } from '@gateway/storage';

export interface RateLimit {
  /** Key family, e.g. `register` → `ratelimit:register:{ip}`. */
  readonly bucket: string;
  /** Events allowed per window; 0 = unlimited. */
  readonly limit: number;
  readonly windowSeconds: number;
}

/** Fixed-window counters in storage (`KeyValueStore.increment`), so every auth replica shares them. */
@Injectable()
export class RateLimiter {
  public constructor(private readonly store: KeyValueStore) {}

  /** Counts one event for `key`; past the limit throws 429 with `Retry-After` (RFC 6585 §4). */
  public async consume(rule: RateLimit, key: string): Promise<void> {
    if (rule.limit === 0) return;
    const count = await this.store.increment(storageKey(rule, key), rule.windowSeconds);
    if (count > rule.limit) throw await this.tooMany(rule, key);
  }

  /** Throws 429 when `key` has already used up its window, without counting. */
  public async assertAvailable(rule: RateLimit, key: string): Promise<void> {
    if (rule.limit === 0) return;
    if (Number(await this.store.get(storageKey(rule, key))) >= rule.limit) throw await this.tooMany(rule, key);
  }

  private async tooMany(rule: RateLimit, key: string): Promise<OAuthError> {
    const ttl = await this.store.ttl(storageKey(rule, key));
    const retryAfter = ttl > 0 ? ttl : rule.windowSeconds;
    return new OAuthError(
      'temporarily_unavailable',
      `too many requests from this address; retry in ${retryAfter} seconds`,
      {
        status: 429,
        headers: { 'retry-after': String(retryAfter) },
      },
    );
  }
}

const storageKey = (rule: RateLimit, key: string): string => `ratelimit:${rule.bucket}:${key}`;
