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

/**
 * Provides `KeyValueStore`: Redis (through @liaoliaots/nestjs-redis, which also closes the client on
 * shutdown) when `REDIS_URL` is set, otherwise memory. `envClass` is the app's validated env class.
 */
@Module({})
export class StorageModule {
  public static forRoot(envClass: Type<StorageEnv>): DynamicModule {
    return {
      module: StorageModule,
      global: true,
      imports: [
        RedisModule.forRootAsync({
          inject: [envClass],
          useFactory: (...args: unknown[]): RedisModuleOptions => {
            const env = args[0] as StorageEnv;
            return {
              readyLog: false,
              errorLog: false, // logRedisOutages: once per outage and on recovery, not on every reconnect attempt
              config: env.REDIS_URL ? { url: env.REDIS_URL, ...REDIS_CLIENT_OPTIONS } : [],
            };
          },
        }),
      ],
      providers: [
        {
          provide: KeyValueStore,
          inject: [envClass, RedisService],
          useFactory: (env: StorageEnv, redis: RedisService): KeyValueStore => {
            const client = redis.getOrNil();
            const logger = new Logger('Storage');
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
