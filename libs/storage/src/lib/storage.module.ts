import { RedisModule, type RedisModuleOptions, RedisService } from '@liaoliaots/nestjs-redis';
import { type DynamicModule, Logger, Module, type Type } from '@nestjs/common';
import { KeyValueStore } from './key-value-store';
import { MemoryStore } from './memory-store';
import { logRedisOutages } from './redis-health';
import { RedisStore } from './redis-store';
import { StorageEnv } from './storage-env';

/** ioredis settings that make a Redis outage fail fast instead of queueing requests forever. */
export const REDIS_CLIENT_OPTIONS = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  commandTimeout: 2_000,
  retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
} as const;

export interface StorageOptions<E extends StorageEnv> {
  /**
   * Whether this process keeps anything in Redis (default: whenever REDIS_URL is set). When not, it opens no
   * connection, so its readiness and logs do not depend on a Redis it never uses.
   */
  readonly needsRedis?: (env: E) => boolean;
  /** Why not, logged when REDIS_URL is set but unused. */
  readonly withoutRedis?: string;
}

/**
 * Provides `KeyValueStore`: Redis (through @liaoliaots/nestjs-redis, which also closes the client on
 * shutdown) when `REDIS_URL` is set (and `needsRedis` agrees), otherwise memory. `envClass` is the app's
 * validated env class.
 */
@Module({})
export class StorageModule {
  public static forRoot<E extends StorageEnv>(envClass: Type<E>, options: StorageOptions<E> = {}): DynamicModule {
    const usesRedis = (env: E): boolean => env.REDIS_URL !== '' && (options.needsRedis?.(env) ?? true);
    return {
      module: StorageModule,
      global: true,
      imports: [
        RedisModule.forRootAsync({
          inject: [envClass],
          useFactory: (...args: unknown[]): RedisModuleOptions => {
            const env = args[0] as E;
            return {
              readyLog: false,
              errorLog: false, // logRedisOutages: once per outage and on recovery, not on every reconnect attempt
              config: usesRedis(env) ? { url: env.REDIS_URL, ...REDIS_CLIENT_OPTIONS } : [],
            };
          },
        }),
      ],
      providers: [
        {
          provide: KeyValueStore,
          inject: [envClass, RedisService],
          useFactory: (env: E, redis: RedisService): KeyValueStore => {
            const client = redis.getOrNil();
            const logger = new Logger('Storage');
            if (env.REDIS_URL && !usesRedis(env)) {
              logger.log(`REDIS_URL is not used: ${options.withoutRedis ?? 'this process keeps nothing in Redis'}`);
              return new MemoryStore(env.STORAGE_PREFIX);
            }
            if (client) {
              logger.log(`Redis storage, key prefix "${env.STORAGE_PREFIX}"`);
              logRedisOutages(client, logger);
              return new RedisStore(client, env.STORAGE_PREFIX);
            }
            logger.warn('Memory storage: state is lost on restart and not shared between processes (set REDIS_URL)');
            return new MemoryStore(env.STORAGE_PREFIX);
          },
        },
      ],
      exports: [KeyValueStore],
    };
  }
}
