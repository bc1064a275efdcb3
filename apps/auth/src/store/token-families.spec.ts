import { MemoryStore } from '@gateway/storage';
import { AuthEnv } from '../config/auth.env';
import { ClientStore } from './client.store';
import { RevokedTokens } from './revoked-tokens';
import { TokenFamilies, type TokenFamily } from './token-families';

describe('TokenFamilies (refresh rotation)', () => {
  const family: TokenFamily = {
    clientId: 'client-a',
    user: { sub: 'dev:alice', provider: 'dev', login: 'alice' },
    resource: 'http://localhost:8080/echo-stateless/mcp',
    scope: 'mcp',
    createdAt: 0,
  };
  let store: MemoryStore;
  let families: TokenFamilies;

  beforeEach(() => {
    jest.useRealTimers();
    store = new MemoryStore('t:');
    const env = Object.assign(new AuthEnv(), { REFRESH_GRACE_SECONDS: 5 });
    families = new TokenFamilies(store, new RevokedTokens(store), new ClientStore(store), env);
  });

  async function newGrant(): Promise<{ familyId: string; token: string }> {
    const familyId = await families.create(family);
    return { familyId, token: await families.issueRefreshToken(familyId, family.clientId) };
  }

  it('rotates a live token into a new one, which rotates in turn', async () => {
    const { familyId, token } = await newGrant();
    const first = await families.rotate(token, 'client-a');
    expect(first).toMatchObject({ kind: 'rotated', familyId, family });
    const successor = (first as { refreshToken: string }).refreshToken;
    expect(successor).not.toBe(token);
    expect(await families.rotate(successor, 'client-a')).toMatchObject({ kind: 'rotated', familyId });
  });

  it('hands concurrent rotations of one token the same successor', async () => {
    const { token } = await newGrant();
    const outcomes = await Promise.all([
      families.rotate(token, 'client-a'),
      families.rotate(token, 'client-a'),
      families.rotate(token, 'client-a'),
    ]);
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(['grace', 'grace', 'rotated']);
    expect(new Set(outcomes.map((outcome) => (outcome as { refreshToken: string }).refreshToken)).size).toBe(1);
  });

  it('reports reuse after the grace window, and revoking the family ends its tokens', async () => {
    const { familyId, token } = await newGrant();
    const rotated = await families.rotate(token, 'client-a');
    const now = Date.now();
    jest.useFakeTimers({ now: now + 6_000, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval'] });
    expect(await families.rotate(token, 'client-a')).toEqual({ kind: 'reused', familyId });
    await families.revoke(familyId);
    expect(await families.rotate((rotated as { refreshToken: string }).refreshToken, 'client-a')).toEqual({
      kind: 'unknown',
    });
  });

  it('refuses another client and unknown tokens', async () => {
    const { token } = await newGrant();
    expect(await families.rotate(token, 'client-b')).toEqual({ kind: 'other-client' });
    expect(await families.rotate('no-such-token', 'client-a')).toEqual({ kind: 'unknown' });
  });

  it('marks every access token of a revoked family revoked', async () => {
    const { familyId } = await newGrant();
    await families.addAccessToken(familyId, `${familyId}.one`);
    await families.addAccessToken(familyId, `${familyId}.two`);
    await families.revoke(familyId);
    const revoked = new RevokedTokens(store);
    expect(await revoked.isRevoked(`${familyId}.one`)).toBe(true);
    expect(await revoked.isRevoked(`${familyId}.two`)).toBe(true);
    expect(await families.get(familyId)).toBeNull();
  });

  it('ends with its client (RFC 7592 DELETE)', async () => {
    const { token } = await newGrant();
    await new ClientStore(store).delete('client-a');
    expect(await families.rotate(token, 'client-a')).toEqual({ kind: 'unknown' });
  });

  // docs/security.md S33: a revocation landing between rotate()'s read of the family and its write must win.
  it('does not recreate a family revoked while a rotation was in flight', async () => {
    const { familyId, token } = await newGrant();
    // The injected delay: the moment rotate() claims the rotation (after it read the family, before it
    // renews it), a /revoke of the family runs to completion.
    const claim = store.set.bind(store);
    jest.spyOn(store, 'set').mockImplementation(async (key, value, options) => {
      if (key.startsWith('refresh-rotated:')) await families.revoke(familyId);
      return claim(key, value, options);
    });
    const outcome = await families.rotate(token, 'client-a');
    expect(outcome).toEqual({ kind: 'unknown' });
    expect(await families.get(familyId)).toBeNull();
    expect(await store.get(`family:${familyId}`)).toBeNull();
  });

  it('hands out no working successor when the family was revoked during the rotation', async () => {
    const { familyId, token } = await newGrant();
    let successor: string | undefined;
    const issue = families.issueRefreshToken.bind(families);
    jest.spyOn(families, 'issueRefreshToken').mockImplementation(async (id, clientId) => {
      successor = await issue(id, clientId);
      await families.revoke(familyId);
      return successor;
    });
    await families.rotate(token, 'client-a');
    expect(successor).toBeDefined();
    expect(await families.rotate(successor as string, 'client-a')).toEqual({ kind: 'unknown' });
    expect(await families.get(familyId)).toBeNull();
  });
});
