export { KeyValueStore, type SetOptions, StorageUnavailableError } from './lib/key-value-store';
export { MemoryStore } from './lib/memory-store';
export { RedisStore } from './lib/redis-store';
export { StorageEnv } from './lib/storage-env';
export { REDIS_CLIENT_OPTIONS, StorageModule, type StorageOptions } from './lib/storage.module';
