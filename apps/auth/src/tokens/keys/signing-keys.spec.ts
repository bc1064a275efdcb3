import { generateKeyPairSync } from 'node:crypto';
import { MemoryStore } from '@gateway/storage';
import { fromConfiguredPem, generateSigningKey } from './key-material';
import { AuthEnv } from '../../config/auth.env';
import { KEY_RING_KEY, type KeyRing, liveKeys, rotateKeyRing, SigningKeys } from './signing-keys';

describe('signing keys', () => {
  it('keeps an older key until its successor is older than the token lifetime plus a reload interval', async () => {
    const newest = { ...(await generateSigningKey('ES256', 10_000)) };
    const older = { ...(await generateSigningKey('ES256', 5_000)) };
    const oldest = { ...(await generateSigningKey('ES256', 1_000)) };
    const ring = [newest, older, oldest];
    // older stays while now < newest.createdAt + 3600 + 60; oldest while now < older.createdAt + 3660.
    expect(liveKeys(ring, 3600, 8_000).map((key) => key.kid)).toEqual([newest.kid, older.kid, oldest.kid]);
    expect(liveKeys(ring, 3600, 9_000).map((key) => key.kid)).toEqual([newest.kid, older.kid]);
    expect(liveKeys(ring, 3600, 13_700).map((key) => key.kid)).toEqual([newest.kid]);
  });

  it('rotation puts a new key in front of the ring and keeps the previous one', async () => {
    const store = new MemoryStore('k:');
    const first = await rotateKeyRing(store, 'RS256', 3600);
    const second = await rotateKeyRing(store, 'ES256', 3600);
    expect(second.kept).toEqual([first.added]);
    const ring = await store.getJson<KeyRing>(KEY_RING_KEY);
    expect(ring?.keys.map((key) => [key.kid, key.alg])).toEqual([
      [second.added, 'ES256'],
      [first.added, 'RS256'],
    ]);
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
      Object.assign(keys, { lastReload: 0 }); // as if the unknown-kid throttle had passed
      expect(await keys.forKid('unknown')).toBeUndefined();
      expect((await store.getJson<KeyRing>(KEY_RING_KEY))?.keys.map((key) => key.kid)).toEqual([kid]);
      expect((await keys.jwks()).keys.map((key) => key.kid)).toEqual([kid]);
    } finally {
      keys.onModuleDestroy();
    }
  });
});
