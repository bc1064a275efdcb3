import { generateKeyPairSync } from 'node:crypto';
import { MemoryStore } from '@gateway/storage';
import { fromConfiguredPem, generateSigningKey } from './key-material';
import { AuthEnv } from '../../config/auth.env';
import { KEY_RING_KEY, type KeyRing, liveKeys, rotateKeyRing, SigningKeys, signingIndex } from './signing-keys';

describe('signing keys', () => {
  const timings = { accessTokenLifetime: 3600, reloadInterval: 60 };

  it('keeps pending keys, the signing key, and an older key until its successor signed for a token lifetime plus a reload interval', async () => {
    const pending = { ...(await generateSigningKey('ES256', 10_000)), activatesAt: 10_120 };
    const signing = { ...(await generateSigningKey('ES256', 5_000)), activatesAt: 5_120 };
    const retiring = await generateSigningKey('ES256', 1_000);
    const ring = [pending, signing, retiring];
    expect(signingIndex(ring, 10_000)).toBe(1);
    expect(signingIndex(ring, 10_120)).toBe(0);
    // retiring stays while now < signing.activatesAt + 3600 + 60 = 8780.
    expect(liveKeys(ring, timings, 8_000).map((key) => key.kid)).toEqual([pending.kid, signing.kid, retiring.kid]);
    expect(liveKeys(ring, timings, 8_780).map((key) => key.kid)).toEqual([pending.kid, signing.kid]);
    // Once pending signs, signing retires at 10_120 + 3660.
    expect(liveKeys(ring, timings, 13_779).map((key) => key.kid)).toEqual([pending.kid, signing.kid]);
    expect(liveKeys(ring, timings, 13_780).map((key) => key.kid)).toEqual([pending.kid]);
  });

  it('rotation stages a new key two reload intervals ahead and keeps the previous one; the first key signs at once', async () => {
    const store = new MemoryStore('k:');
    const first = await rotateKeyRing(store, 'RS256', timings, { now: 1_000 });
    expect(first.activatesAt).toBe(1_000);
    const second = await rotateKeyRing(store, 'ES256', timings, { now: 2_000 });
    expect(second).toMatchObject({ activatesAt: 2_120, kept: [first.added] });
    const urgent = await rotateKeyRing(store, 'ES256', timings, { now: 2_001, activateIn: 0 });
    expect(urgent).toMatchObject({ activatesAt: 2_001, kept: [second.added, first.added] });
    const ring = await store.getJson<KeyRing>(KEY_RING_KEY);
    expect(ring?.keys.map((key) => [key.kid, key.alg])).toEqual([
      [urgent.added, 'ES256'],
      [second.added, 'ES256'],
      [first.added, 'RS256'],
    ]);
  });

  describe('two replicas around a rotation (injected clock)', () => {
    let now: number;
    const clock = { nowSeconds: () => now };
    const env = Object.assign(new AuthEnv(), { KEY_RING_RELOAD_INTERVAL: 60, ACCESS_TOKEN_LIFETIME: 3600 });
    let store: MemoryStore;
    let replicas: SigningKeys[];

    beforeEach(async () => {
      now = 1_000_000;
      store = new MemoryStore('two:');
      replicas = [new SigningKeys(store, env, clock), new SigningKeys(store, env, clock)];
      for (const replica of replicas) await replica.onModuleInit();
    });
    afterEach(() => replicas.forEach((replica) => replica.onModuleDestroy()));

    /** Every replica's signing key is published (and so accepted) by every replica, without re-reading the ring. */
    async function everySignatureVerifiesEverywhere(): Promise<void> {
      for (const signer of replicas) {
        const { kid } = await signer.signingKey();
        for (const verifier of replicas) {
          expect((await verifier.jwks()).keys.map((key) => key.kid)).toContain(kid);
        }
      }
    }

    it('never signs with a key another replica has not read, whichever replica re-read the ring first', async () => {
      const [a, b] = replicas as [SigningKeys, SigningKeys];
      const old = (await a.signingKey()).kid;
      const { added, activatesAt } = await rotateKeyRing(store, 'RS256', timings, { now });
      // Right after the rotation: only replica a has re-read the ring; both still sign with the old key.
      await a.reload();
      expect((await a.jwks()).keys.map((key) => key.kid)).toEqual([added, old]);
      expect((await b.jwks()).keys.map((key) => key.kid)).toEqual([old]);
      await everySignatureVerifiesEverywhere();
      // One reload interval later b has re-read it too (its periodic reload); still the old key signs.
      now += 60;
      await b.reload();
      await everySignatureVerifiesEverywhere();
      expect((await b.signingKey()).kid).toBe(old);
      // At activation both switch, by the clock, with no reload needed; tokens of the old key stay valid.
      now = activatesAt;
      expect((await a.signingKey()).kid).toBe(added);
      expect((await b.signingKey()).kid).toBe(added);
      await everySignatureVerifiesEverywhere();
      expect((await b.jwks()).keys.map((key) => key.kid)).toContain(old);
      // The old key retires once its last token has expired.
      now = activatesAt + 3600 + 60;
      await a.reload();
      expect((await a.jwks()).keys.map((key) => key.kid)).toEqual([added]);
    });

    it('re-reads the ring for an unknown kid at once, then at most every 5 s (not counted from periodic reloads)', async () => {
      const [a, b] = replicas as [SigningKeys, SigningKeys];
      const { added } = await rotateKeyRing(store, 'RS256', timings, { now, activateIn: 0 });
      await a.reload();
      expect((await a.signingKey()).kid).toBe(added);
      // b has just done a periodic reload (before the rotation): the unknown kid still triggers a re-read.
      expect(await b.forKid(added)).toBeDefined();
      expect(await b.forKid('forged-1')).toBeUndefined();
      const read = jest.spyOn(store, 'getJson');
      expect(await b.forKid('forged-2')).toBeUndefined();
      expect(read).not.toHaveBeenCalled();
    });
  });

  it('reads a configured PEM or base64 PEM and checks it against JWT_ALGORITHM', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = await fromConfiguredPem(pem, 'ES256');
    expect(key.alg).toBe('ES256');
    expect((await fromConfiguredPem(Buffer.from(pem).toString('base64'), 'ES256')).kid).toBe(key.kid);
    expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: key.kid, alg: 'ES256', use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
    await expect(fromConfiguredPem(pem, 'RS256')).rejects.toThrow(/JWT_ALGORITHM=RS256/);
    await expect(fromConfiguredPem('not a key', 'RS256')).rejects.toThrow(/not a readable private key/);
  });

  it('creates the ring on first start, and puts it back when storage lost it', async () => {
    const store = new MemoryStore('r:');
    const keys = new SigningKeys(store, new AuthEnv());
    await keys.onModuleInit();
    try {
      const { kid } = await keys.signingKey();
      expect((await store.getJson<KeyRing>(KEY_RING_KEY))?.keys.map((key) => key.kid)).toEqual([kid]);
      await store.delete(KEY_RING_KEY);
      expect(await keys.forKid('unknown')).toBeUndefined();
      expect((await store.getJson<KeyRing>(KEY_RING_KEY))?.keys.map((key) => key.kid)).toEqual([kid]);
      expect((await keys.jwks()).keys.map((key) => key.kid)).toEqual([kid]);
    } finally {
      keys.onModuleDestroy();
    }
  });
});
