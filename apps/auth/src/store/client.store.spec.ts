import { MemoryStore } from '@gateway/storage';
import type { ClientRecord } from './records';
import { ClientStore, clientTtl } from './client.store';

const client: ClientRecord = {
  clientId: 'c1',
  registrationTokenHash: 'x',
  issuedAt: 1,
  expiresAt: 0,
  metadata: {
    redirect_uris: ['https://a.example/cb'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'mcp',
  },
};

describe('ClientStore', () => {
  it('deletes a client together with every key tracked for it, and nothing else', async () => {
    const store = new MemoryStore();
    const clients = new ClientStore(store);
    await clients.save(client, 0);
    await store.set('refresh:a', '1', { ttlSeconds: 600 });
    await store.set('consent:alice:c1', '1', { ttlSeconds: 60 });
    await store.set('refresh:other', '1');
    await clients.track('c1', 'refresh:a', 600);
    await clients.track('c1', 'consent:alice:c1', 60);
    expect(await store.ttl('client-keys:c1')).toBe(600);

    await clients.delete('c1');
    expect(await clients.get('c1')).toBeUndefined();
    expect(await store.get('refresh:a')).toBeNull();
    expect(await store.get('consent:alice:c1')).toBeNull();
    expect(await store.setMembers('client-keys:c1')).toEqual([]);
    expect(await store.get('refresh:other')).toBe('1');
  });
});

describe('unused registrations', () => {
  const now = 1_000_000;
  const registered = { ...client, issuedAt: now, expiresAt: now + 90 * 86400 };

  it('an unused client lives UNUSED_CLIENT_LIFETIME, a used one its whole lifetime', () => {
    expect(clientTtl(registered, 86400, now)).toBe(86400);
    expect(clientTtl(registered, 86400, now + 3600)).toBe(86400 - 3600);
    expect(clientTtl({ ...registered, usedAt: now + 10 }, 86400, now + 10)).toBe(90 * 86400 - 10);
    expect(clientTtl(registered, 0, now)).toBe(90 * 86400);
    expect(clientTtl({ ...registered, expiresAt: 0 }, 86400, now)).toBe(86400);
    expect(clientTtl({ ...registered, expiresAt: 0, usedAt: now }, 86400, now)).toBe(0);
  });

  it('markUsed lifts the unused deadline once', async () => {
    const store = new MemoryStore();
    const clients = new ClientStore(store);
    const fresh = { ...client, issuedAt: Math.floor(Date.now() / 1000), expiresAt: 0 };
    await clients.save(fresh, clientTtl(fresh, 60));
    expect(await store.ttl('client:c1')).toBeGreaterThan(0);
    await clients.markUsed(fresh, 60);
    expect((await clients.get('c1'))?.usedAt).toEqual(expect.any(Number));
    expect(await store.ttl('client:c1')).toBe(-1); // no expiry any more (CLIENT_LIFETIME=0)
  });
});
