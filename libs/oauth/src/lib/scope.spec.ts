import { BASE_SCOPE, parseScope, SUPPORTED_SCOPES, withBaseScope } from './scope';

describe('parseScope', () => {
  it('splits on spaces, drops duplicates and empty tokens', () => {
    expect(parseScope('mcp  offline_access mcp')).toEqual(['mcp', 'offline_access']);
    expect(parseScope('')).toEqual([]);
  });

  it.each([['openid profile email'], ['claudeai'], ['read write']])('drops the unknown scopes of %j', (value) => {
    expect(parseScope(`${value} offline_access`)).toEqual(['offline_access']);
  });

  it('refuses bad characters with the requested code', () => {
    expect(() => parseScope('mc"p', 'invalid_client_metadata')).toThrow(
      expect.objectContaining({ code: 'invalid_client_metadata' }),
    );
    expect(() => parseScope('mcp \\x')).toThrow(expect.objectContaining({ code: 'invalid_scope' }));
  });

  it('knows the gateway scopes and the service scopes it is given, dropping others', () => {
    expect(SUPPORTED_SCOPES).toContain('offline_access');
    expect(parseScope('mcp memory:write files:read', 'invalid_scope', ['memory:write'])).toEqual([
      'mcp',
      'memory:write',
    ]);
  });

  it('puts the base scope first, once', () => {
    expect(withBaseScope(['offline_access'])).toBe(`${BASE_SCOPE} offline_access`);
    expect(withBaseScope(['offline_access', 'mcp'])).toBe('mcp offline_access');
    expect(withBaseScope([])).toBe('mcp');
  });
});
