import { MemoryStore } from '@gateway/storage';
import type { ClientRecord } from './records';
import { ClientStore } from './client.store';

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
