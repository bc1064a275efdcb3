import { MemoryStore } from '@gateway/storage';
import { OwnerRegistry } from './owner-registry';

describe('OwnerRegistry', () => {
  let now = 0;
  let store: MemoryStore;
  const registryOf = (id: string) =>
    new OwnerRegistry(store, 'memory', { id, url: `http://${id}.test:3202` }, 60, (error) => {
      throw error;
    });
  /** Replicas a and b, announced. */
  const twoReplicas = async () => {
    const replicas = [registryOf('a'), registryOf('b')] as const;
    for (const replica of replicas) await replica.start();
    return replicas;
  };
  const session = { kind: 'session', key: 'abc' } as const;
  const user = { kind: 'user', key: 'github:42' } as const;

  beforeEach(() => {
    now = 1_000_000;
    store = new MemoryStore('', () => now);
  });
  afterEach(() => store.close());

  it('names the owner: this replica, a live peer, or none', async () => {
    const [a, b] = await twoReplicas();
    expect(await a.ownerOf(session)).toEqual({ kind: 'none' });
    await a.claim(session);
    expect(await a.ownerOf(session)).toEqual({ kind: 'self' });
    expect(await b.ownerOf(session)).toEqual({ kind: 'peer', peer: { id: 'a', url: 'http://a.test:3202' } });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('lets one replica adopt an unowned user, not two', async () => {
    const [a, b] = await twoReplicas();
    expect(await a.claim(user, true)).toBe(true);
    expect(await b.claim(user, true)).toBe(false);
    expect(await b.ownerOf(user)).toMatchObject({ kind: 'peer', peer: { id: 'a' } });
    await Promise.all([a.stop(), b.stop()]);
  });

  it("counts a dead replica's claims as unowned once its heartbeat expired, and drops them", async () => {
    const [a, b] = await twoReplicas();
    await a.claim(session);
    await a.claim(user);
    // A crash: no stop(), no more heartbeats (the interval is not running under the fake clock).
    now += 11_000;
    await b.start(); // b's own heartbeat renewed
    expect(await b.ownerOf(session)).toEqual({ kind: 'none' });
    expect(await b.claim(user, true)).toBe(false); // still written until looked up...
    expect(await b.ownerOf(user)).toEqual({ kind: 'none' }); // ...which drops it
    expect(await b.claim(user, true)).toBe(true);
    await b.stop();
  });

  it('a graceful stop ends its claims at once', async () => {
    const [a, b] = await twoReplicas();
    await a.claim(session);
    await a.stop();
    expect(await b.ownerOf(session)).toEqual({ kind: 'none' });
    await b.stop();
  });

  it('a claim dropped while its owner lives is written again by its next request', async () => {
    const [a, b] = await twoReplicas();
    await a.claim(session);
    await b.forget(session, 'a'); // as after a missed heartbeat
    expect(await b.ownerOf(session)).toEqual({ kind: 'none' });
    a.renew(session);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await b.ownerOf(session)).toMatchObject({ kind: 'peer', peer: { id: 'a' } });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('forgets a claim only while it still names the given owner', async () => {
    const [a, b] = await twoReplicas();
    await a.claim(user);
    await b.forget(user, 'someone-else');
    expect(await b.ownerOf(user)).toMatchObject({ kind: 'peer' });
    await b.forget(user, 'a');
    expect(await b.ownerOf(user)).toEqual({ kind: 'none' });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('releases what it owns, and claims expire unless renewed', async () => {
    const a = registryOf('a');
    await a.start();
    await a.claim(session);
    await a.release(session);
    expect(await a.ownerOf(session)).toEqual({ kind: 'none' });
    await a.claim(user);
    now += 50_000;
    a.renew(user);
    await new Promise((resolve) => setImmediate(resolve));
    now += 50_000;
    await a.start();
    expect(await a.ownerOf(user)).toEqual({ kind: 'self' });
    now += 61_000;
    await a.start();
    expect(await a.ownerOf(user)).toEqual({ kind: 'none' });
    await a.stop();
  });
});
