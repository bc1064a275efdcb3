import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type KeyValueStore, StorageUnavailableError } from './key-value-store';
import { REDIS_CLIENT_OPTIONS } from './storage.module';
import { MemoryStore } from './memory-store';
import { RedisStore } from './redis-store';

/**
 * One contract, two implementations: the memory store must behave like Redis.
 * The Redis run uses a real server (REDIS_URL from the jest global setup).
 */
interface Harness {
  create(prefix: string): KeyValueStore;
  /** Lets stored TTLs run out: real time for Redis, a clock jump for memory. */
  advance(seconds: number): Promise<void>;
  close(): Promise<void>;
}

function memoryHarness(): Harness {
  let now = Date.now();
  const stores: MemoryStore[] = [];
  return {
    create: (prefix) => {
      const store = new MemoryStore(prefix, () => now);
      stores.push(store);
      return store;
    },
    advance: async (seconds) => {
      now += seconds * 1000;
    },
    close: async () => stores.forEach((store) => store.close()),
  };
}

function redisHarness(): Harness {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error('REDIS_URL is not set: the jest global setup starts a Redis');
  const client = new Redis(url);
  return {
    create: (prefix) => new RedisStore(client, prefix),
    advance: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100)),
    close: async () => void (await client.quit()),
  };
}

describe.each([
  ['memory', memoryHarness],
  ['redis', redisHarness],
])('KeyValueStore contract: %s', (_kind, makeHarness) => {
  let harness: Harness;
  let store: KeyValueStore;

  beforeAll(() => {
    harness = makeHarness();
  });
  afterAll(() => harness.close());
  beforeEach(() => {
    store = harness.create(`test:${randomUUID()}:`);
  });

  it('sets, gets and deletes', async () => {
    expect(await store.get('a')).toBeNull();
    expect(await store.set('a', '1')).toBe(true);
    expect(await store.get('a')).toBe('1');
    expect(await store.delete('a', 'missing')).toBe(1);
    expect(await store.get('a')).toBeNull();
  });

  it('set with onlyIfAbsent does not overwrite', async () => {
    expect(await store.set('k', 'first', { onlyIfAbsent: true })).toBe(true);
    expect(await store.set('k', 'second', { onlyIfAbsent: true })).toBe(false);
    expect(await store.get('k')).toBe('first');
  });

  it('expires keys after their TTL', async () => {
    await store.set('short', 'v', { ttlSeconds: 1 });
    await store.set('long', 'v', { ttlSeconds: 100 });
    await store.set('forever', 'v');
    expect(await store.ttl('short')).toBeGreaterThan(0);
    expect(await store.ttl('forever')).toBe(-1);
    expect(await store.ttl('missing')).toBe(-2);
    await harness.advance(1.1);
    expect(await store.get('short')).toBeNull();
    expect(await store.ttl('short')).toBe(-2);
    expect(await store.get('long')).toBe('v');
  });

  it('expire renews a live key without rewriting it', async () => {
    await store.set('session', 'v', { ttlSeconds: 1 });
    expect(await store.expire('session', 100)).toBe(true);
    expect(await store.expire('missing', 100)).toBe(false);
    await harness.advance(1.1);
    expect(await store.get('session')).toBe('v');
    expect(await store.ttl('session')).toBeGreaterThan(1);
  });

  it('take is atomic: of many concurrent takers exactly one gets the value', async () => {
    await store.set('code', 'secret', { ttlSeconds: 60 });
    const results = await Promise.all(Array.from({ length: 20 }, () => store.take('code')));
    expect(results.filter((value) => value === 'secret')).toHaveLength(1);
    expect(results.filter((value) => value === null)).toHaveLength(19);
    expect(await store.get('code')).toBeNull();
  });

  it('increments counters inside a TTL window', async () => {
    const counts = await Promise.all(Array.from({ length: 10 }, () => store.increment('hits', 1)));
    expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await harness.advance(1.1);
    expect(await store.increment('hits', 1)).toBe(1);
  });

  it('keeps sets with members, removal and expiry', async () => {
    await store.setAdd('family', ['a', 'b'], 1);
    await store.setAdd('family', ['c']);
    expect((await store.setMembers('family')).sort()).toEqual(['a', 'b', 'c']);
    await store.setRemove('family', ['b']);
    expect((await store.setMembers('family')).sort()).toEqual(['a', 'c']);
    await harness.advance(1.1);
    expect(await store.setMembers('family')).toEqual([]);
  });

  it('stores JSON', async () => {
    await store.setJson('obj', { a: 1, b: ['x'] });
    expect(await store.getJson('obj')).toEqual({ a: 1, b: ['x'] });
    expect(await store.takeJson('obj')).toEqual({ a: 1, b: ['x'] });
    expect(await store.getJson('obj')).toBeNull();
  });

  it('separates key prefixes', async () => {
    const other = harness.create(`test:${randomUUID()}:`);
    await store.set('shared-name', 'mine');
    expect(await other.get('shared-name')).toBeNull();
    await other.set('shared-name', 'theirs');
    expect(await store.get('shared-name')).toBe('mine');
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('RedisStore writes under its prefix', () => {
  it('is visible in Redis with the prefix', async () => {
    const client = new Redis(process.env['REDIS_URL'] as string);
    const prefix = `test:${randomUUID()}:`;
    await new RedisStore(client, prefix).set('visible', 'yes', { ttlSeconds: 30 });
    expect(await client.get(`${prefix}visible`)).toBe('yes');
    expect(await client.ttl(`${prefix}visible`)).toBeGreaterThan(0);
    await client.quit();
  });
});

describe('RedisStore during an outage', () => {
  it('rejects every operation with StorageUnavailableError (the driver error as its cause)', async () => {
    // Nothing listens on port 1 of loopback: every command fails after the fail-fast options' retry.
    const client = new Redis('redis://127.0.0.1:1', { ...REDIS_CLIENT_OPTIONS, lazyConnect: true });
    client.on('error', () => undefined);
    const store = new RedisStore(client, 'outage:');
    for (const operation of [
      () => store.get('k'),
      () => store.set('k', 'v'),
      () => store.increment('k', 10),
      () => store.setAdd('s', ['m']),
      () => store.ping(),
    ]) {
      const error = await operation().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(StorageUnavailableError);
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
    client.disconnect();
  });
});
