import { MemoryStore } from '@gateway/storage';
import { ClientStore } from './client.store';
import { AuthEnv } from '../config/auth.env';
import { AuthorizationCodes } from './authorization-codes';
import { RevokedTokens } from './revoked-tokens';
import { TokenFamilies } from './token-families';

describe('AuthorizationCodes', () => {
  const user = { sub: 'dev:alice', provider: 'dev', login: 'alice' } as const;
  const record = {
    clientId: 'client-a',
    redirectUri: 'http://127.0.0.1:9999/cb',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    codeChallengeMethod: 'S256',
    resource: 'http://localhost:8080/echo-stateless/mcp',
    scope: 'mcp',
    user,
  } as const;
  let store: MemoryStore;
  let families: TokenFamilies;
  let codes: AuthorizationCodes;

  beforeEach(() => {
    store = new MemoryStore('t:');
    const env = new AuthEnv();
    families = new TokenFamilies(store, new RevokedTokens(store), new ClientStore(store), env);
    codes = new AuthorizationCodes(store, families, env);
  });

  const newFamily = (): Promise<string> =>
    families.create({ clientId: 'client-a', user, resource: record.resource, scope: 'mcp', createdAt: 0 });

  it('redeems an issued code once; the record is what was issued', async () => {
    const code = await codes.issue(record);
    const first = await codes.redeem(code);
    expect(first).toMatchObject({ kind: 'redeemed', expired: false, record });
    expect(await codes.redeem('never-issued')).toEqual({ kind: 'unknown' });
  });

  it('gives a code to exactly one of concurrent redemptions', async () => {
    const code = await codes.issue(record);
    const outcomes = await Promise.all([codes.redeem(code), codes.redeem(code), codes.redeem(code)]);
    expect(outcomes.filter((outcome) => outcome.kind === 'redeemed')).toHaveLength(1);
  });

  it('revokes the family issued from a code when the code is replayed (RFC 6749 §4.1.2)', async () => {
    const code = await codes.issue(record);
    const first = await codes.redeem(code);
    if (first.kind !== 'redeemed') throw new Error('not redeemed');
    const familyId = await newFamily();
    expect(await first.bindFamily(familyId)).toBe(true);
    expect(await codes.redeem(code)).toEqual({ kind: 'replayed', revokedFamilies: [familyId] });
    expect(await families.get(familyId)).toBeNull();
  });

  it('revokes the family of a redemption that a replay raced', async () => {
    const code = await codes.issue(record);
    const first = await codes.redeem(code);
    if (first.kind !== 'redeemed') throw new Error('not redeemed');
    expect(await codes.redeem(code)).toEqual({ kind: 'replayed', revokedFamilies: [] });
    const familyId = await newFamily();
    expect(await first.bindFamily(familyId)).toBe(false);
    expect(await families.get(familyId)).toBeNull();
  });
});
