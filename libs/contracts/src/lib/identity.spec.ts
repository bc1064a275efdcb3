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
});
