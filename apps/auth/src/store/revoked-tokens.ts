import { RedisService } from '@liaoliaots/nestjs-redis';
import { Injectable, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import { AuthEnv } from '../config/auth.env';
import { RevocationFeed } from './revocation-feed';

/**
 * Revoked access tokens by `jti` (key `revoked:{jti}`, kept until the token would have expired anyway).
 *
 * With Redis, each replica keeps the revoked ids in memory, current through pub/sub and resynchronised on
 * every (re)connection (revocation-feed.ts), so /verify reads no storage; while that copy cannot be trusted
 * it reads `revoked:{jti}` per request, and a failing read makes /verify fail closed. With memory storage
 * (one process) the GET is an in-process lookup, as before.
 */
@Injectable()
export class RevokedTokens implements OnModuleInit, OnModuleDestroy {
  private readonly feed?: RevocationFeed;

  public constructor(
    private readonly store: KeyValueStore,
    @Optional() redis?: RedisService,
    @Optional() private readonly env?: AuthEnv,
  ) {
    const client = store.kind === 'redis' ? redis?.getOrNil() : null;
    if (client && env) this.feed = new RevocationFeed(client, env.STORAGE_PREFIX);
  }

  public onModuleInit(): void {
    this.feed?.start();
  }

  public onModuleDestroy(): void {
    this.feed?.stop();
  }

  public async revoke(jti: string, secondsLeft: number): Promise<void> {
    if (secondsLeft <= 0) return;
    if (this.feed) await this.feed.write(jti, Date.now() + secondsLeft * 1000, this.env?.ACCESS_TOKEN_LIFETIME ?? 0);
    else await this.store.set(`revoked:${jti}`, '1', { ttlSeconds: secondsLeft });
  }

  /**
   * The answer from this replica's in-memory copy when it is current, else undefined: ask `isRevoked`.
   * Synchronous, so that /verify's hot path awaits nothing for it.
   */
  public revokedLocally(jti: string): boolean | undefined {
    return this.feed?.state() === 'live' ? this.feed.has(jti) : undefined;
  }

  /** Whether `jti` is revoked; reads storage unless the in-memory copy is current (throws when storage fails). */
  public async isRevoked(jti: string): Promise<boolean> {
    return this.revokedLocally(jti) ?? (await this.store.get(`revoked:${jti}`)) !== null;
  }

  /** 'live' (answers from memory), 'fallback' (a storage read per check) or 'storage' (memory mode). */
  public mode(): 'live' | 'fallback' | 'storage' {
    return this.feed?.state() ?? 'storage';
  }
}
