import type { RedisService } from '@liaoliaots/nestjs-redis';
import { MemoryStore, REDIS_CLIENT_OPTIONS, RedisStore } from '@gateway/storage';
import { Redis } from 'ioredis';
import { AuthEnv } from '../config/auth.env';
import { RevokedTokens } from './revoked-tokens';

/** Polls `probe` every 10 ms until it returns true, at most `attempts` times; returns the last answer. */
async function eventually(probe: () => boolean | Promise<boolean>, attempts = 300): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return probe();
}

describe('RevokedTokens with Redis (one in-memory copy per replica, kept current by pub/sub)', () => {
  // The jest global setup's throwaway redis-server (apps/auth/jest.config.cjs).
  const redis = { url: process.env['REDIS_URL'] ?? '' };
  const clients: Redis[] = [];
  const replicas: RevokedTokens[] = [];
  let prefix: string;
  let n = 0;

  beforeEach(() => {
    prefix = `revoked-spec-${++n}:`;
  });
  afterEach(() => {
    replicas.splice(0).forEach((replica) => replica.onModuleDestroy());
    clients.splice(0).forEach((client) => client.disconnect());
  });

  /** An auth replica's RevokedTokens: its own Redis client, as in production. */
  function replica(): { revoked: RevokedTokens; client: Redis } {
    const client = new Redis(redis.url, REDIS_CLIENT_OPTIONS);
    client.on('error', () => undefined);
    clients.push(client);
    const env = Object.assign(new AuthEnv(), { STORAGE_PREFIX: prefix, ACCESS_TOKEN_LIFETIME: 3600 });
    const service = { getOrNil: () => client } as unknown as RedisService;
    const revoked = new RevokedTokens(new RedisStore(client, prefix), service, env);
    revoked.onModuleInit();
    replicas.push(revoked);
    return { revoked, client };
  }

  it('answers from memory once live, and sees a revocation made through another replica', async () => {
    const a = replica().revoked;
    const b = replica().revoked;
    expect(await eventually(() => a.mode() === 'live' && b.mode() === 'live')).toBe(true);
    expect(b.revokedLocally('fam.one')).toBe(false);

    await a.revoke('fam.one', 60);
    expect(a.revokedLocally('fam.one')).toBe(true); // the revoking replica at once
    expect(await eventually(() => b.revokedLocally('fam.one') === true)).toBe(true);
    expect(await b.isRevoked('fam.one')).toBe(true);
    expect(await b.isRevoked('fam.other')).toBe(false);
  });

  it('resyncs on start: a revocation made before the replica subscribed is known', async () => {
    const a = replica().revoked;
    await a.revoke('fam.before', 60);
    const b = replica().revoked;
    expect(await eventually(() => b.mode() === 'live')).toBe(true);
    expect(b.revokedLocally('fam.before')).toBe(true);
  });

  it('still refuses a token revoked while its subscriber connection was killed, and resyncs', async () => {
    const a = replica().revoked;
    const { revoked: b, client } = replica();
    expect(await eventually(() => b.mode() === 'live')).toBe(true);
    const admin = new Redis(redis.url);
    clients.push(admin);
    // Cut every subscriber connection (the feed's), then revoke before it is back.
    expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
    await a.revoke('fam.cut', 60);
    // Whatever the state at each probe (fallback GET while down, memory once resynced), the answer is "revoked".
    for (let i = 0; i < 20; i++) {
      expect(await b.isRevoked('fam.cut')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await eventually(() => b.mode() === 'live')).toBe(true);
    expect(b.revokedLocally('fam.cut')).toBe(true);
    expect(client.status).toBe('ready');
  });

  it('reads storage per check while the subscription is down', async () => {
    const a = replica().revoked;
    const b = replica().revoked;
    expect(await eventually(() => b.mode() === 'live')).toBe(true);
    b.onModuleDestroy(); // the subscription is gone for good
    expect(b.mode()).toBe('fallback');
    expect(b.revokedLocally('fam.down')).toBeUndefined();
    await a.revoke('fam.down', 60);
    expect(await b.isRevoked('fam.down')).toBe(true);
  });

  it('fails closed (throws) when the subscription and storage are both unreachable', async () => {
    const { revoked: b, client } = replica();
    expect(await eventually(() => b.mode() === 'live')).toBe(true);
    const admin = new Redis(redis.url);
    clients.push(admin);
    // A Redis that answers nothing for 6 s, connections open (as behind a silent network partition): the
    // heartbeat notices, and the storage read times out (commandTimeout 2 s).
    await admin.client('PAUSE', 6_000, 'ALL');
    expect(await eventually(() => b.mode() === 'fallback')).toBe(true);
    await expect(b.isRevoked('fam.x')).rejects.toThrow();
    expect(await eventually(() => b.mode() === 'live', 600)).toBe(true);
    expect(client.status).toBe('ready');
  });
});

describe('RevokedTokens with memory storage', () => {
  it('reads the store on every check, as before', async () => {
    const store = new MemoryStore('m:');
    const revoked = new RevokedTokens(store);
    expect(revoked.mode()).toBe('storage');
    expect(revoked.revokedLocally('fam.one')).toBeUndefined();
    await revoked.revoke('fam.one', 60);
    await revoked.revoke('fam.expired', 0);
    expect(await revoked.isRevoked('fam.one')).toBe(true);
    expect(await revoked.isRevoked('fam.expired')).toBe(false);
    expect(await store.ttl('revoked:fam.one')).toBe(60);
  });
});
