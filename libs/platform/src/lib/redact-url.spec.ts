import { redactQuery, redactUrl } from './redact-url';

describe('redactUrl (docs/security.md S37)', () => {
  it('replaces codes, state, verifiers and tokens, keeps the rest', () => {
    const out = redactUrl('/callback?code=SPLxlOBeZQQYbYS6WxSbIA&state=xyz-secret&iss=https%3A%2F%2Fidp&x=1');
    expect(out).not.toContain('SPLxlOBeZQQYbYS6WxSbIA');
    expect(out).not.toContain('xyz-secret');
    expect(out).toContain('iss=https%3A%2F%2Fidp');
    expect(out).toContain('x=1');
    expect(out.startsWith('/callback?')).toBe(true);
  });

  it('catches repeated and upper-case names', () => {
    const out = redactUrl('/x?STATE=a1&state=a2&Code_Verifier=v&refresh_token=r&access_token=t');
    for (const secret of ['a1', 'a2', '=v', '=r', '=t']) expect(out).not.toContain(secret);
  });

  it('leaves URLs without sensitive parameters alone', () => {
    expect(redactUrl('/authorize?client_id=abc&scope=mcp')).toBe('/authorize?client_id=abc&scope=mcp');
    expect(redactUrl('/healthz')).toBe('/healthz');
  });

  it('redacts a parsed query', () => {
    expect(redactQuery({ code: 'c', state: 's', client_id: 'abc' })).toEqual({
      code: '[redacted]',
      state: '[redacted]',
      client_id: 'abc',
    });
  });
});
