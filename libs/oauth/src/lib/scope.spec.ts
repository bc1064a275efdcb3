import { parseScope, RESOURCE_SCOPES, SUPPORTED_SCOPES } from './scope';

describe('parseScope', () => {
  it('splits on spaces, drops duplicates and empty tokens', () => {
    expect(parseScope('mcp  offline_access mcp')).toEqual(['mcp', 'offline_access']);
    expect(parseScope('')).toEqual([]);
  });

  it('refuses unknown scopes and bad characters with the requested code', () => {
    expect(() => parseScope('openid mcp')).toThrow(
      expect.objectContaining({ code: 'invalid_scope', message: expect.stringContaining('"openid"') }),
    );
    expect(() => parseScope('mc"p', 'invalid_client_metadata')).toThrow(
      expect.objectContaining({ code: 'invalid_client_metadata' }),
    );
  });

  it('keeps offline_access out of the resource scopes', () => {
    expect(SUPPORTED_SCOPES).toContain('offline_access');
    expect(RESOURCE_SCOPES).not.toContain('offline_access');
  });
});
