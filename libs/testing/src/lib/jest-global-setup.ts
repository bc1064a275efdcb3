import { startTestRedis, type TestRedis } from './redis-server';

/**
 * Jest globalSetup for suites that need Redis: exports REDIS_URL to the workers
 * (a throwaway server unless REDIS_URL was already set). Pair with `jest-global-teardown`.
 */
export default async function globalSetup(): Promise<void> {
  const redis = await startTestRedis();
  process.env['REDIS_URL'] = redis.url;
  (globalThis as { __TEST_REDIS__?: TestRedis }).__TEST_REDIS__ = redis;
}
