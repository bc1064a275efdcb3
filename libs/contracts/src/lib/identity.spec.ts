import { identityFromHeaders, identityToHeaders } from './identity';

describe('identity headers', () => {
  it('round-trips through the wire headers', () => {
    const headers = identityToHeaders({ userId: 'github:42', userName: 'octocat', clientId: 'c1', scope: 'mcp' });
    expect(headers).toEqual({
      'x-user-id': 'github:42',
      'x-user-name': 'octocat',
      'x-client-id': 'c1',
      'x-scope': 'mcp',
    });
    expect(identityFromHeaders(headers)).toMatchObject({
      userId: 'github:42',
      userName: 'octocat',
      clientId: 'c1',
      scope: 'mcp',
    });
  });

  it('is undefined without a user id', () => {
    expect(identityFromHeaders({ 'x-user-name': 'octocat' })).toBeUndefined();
    expect(identityFromHeaders({ 'x-user-id': '' })).toBeUndefined();
  });

  it('refuses oversized values', () => {
    expect(identityFromHeaders({ 'x-user-id': 'a'.repeat(1000) })).toBeUndefined();
  });

  it('gives each caller its own identity when the same headers come again (read once, then remembered)', () => {
    const alice = { 'x-user-id': 'dev:alice', 'x-scope': 'mcp' };
    const bob = { 'x-user-id': 'dev:bob', 'x-scope': 'mcp' };
    const first = identityFromHeaders(alice);
    expect(identityFromHeaders(bob)).toMatchObject({ userId: 'dev:bob', scope: 'mcp' });
    expect(identityFromHeaders({ ...alice })).toBe(first);
    expect(first).toMatchObject({ userId: 'dev:alice', scope: 'mcp' });
    expect(Object.isFrozen(first)).toBe(true);
    expect(identityFromHeaders({ 'x-user-id': 'a'.repeat(1000) })).toBeUndefined();
    expect(identityFromHeaders({ 'x-user-id': 'dev:alice', 'x-scope': 'mcp', 'x-user-name': 'Alice' })).toMatchObject({
      userName: 'Alice',
    });
  });
});
