import { checkRedirectUri, matchRedirectUri } from './redirect-uri';

describe('checkRedirectUri', () => {
  it.each([
    ['https://claude.ai/api/mcp/auth_callback', 'https'],
    ['https://vscode.dev/redirect', 'https'],
    ['http://localhost:6274/oauth/callback', 'loopback'],
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.0.0.1:33418/', 'loopback'],
    ['http://[::1]:8000/cb', 'loopback'],
    ['HTTP://LOCALHOST:9/cb', 'loopback'],
    ['cursor://anysphere.cursor-mcp/oauth/callback', 'private-use'],
    ['com.example.app:/oauth2redirect', 'private-use'],
  ])('accepts %s as %s', (uri, kind) => {
    expect(checkRedirectUri(uri)).toBe(kind);
  });

  it.each([
    ['javascript:alert(1)', 'scheme'],
    ['JavaScript:alert(1)//', 'scheme'],
    ['data:text/html,<script>alert(1)</script>', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['urn:ietf:wg:oauth:2.0:oob', 'scheme'],
    ['http://localhost.evil.com/cb', 'plain http'],
    ['http://127.0.0.1.nip.io/cb', 'plain http'],
    ['HTTP://evil.com/cb', 'plain http'],
    ['http://example.com/cb', 'plain http'],
    ['https://example.com/cb#frag', 'fragment'],
    ['https://example.com/cb#', 'fragment'],
    ['https://user:pw@example.com/cb', 'user information'],
    ['http://evil.com@localhost/cb', 'user information'],
    ['/relative/cb', 'absolute'],
    ['not-a-uri', 'absolute'],
    ['', 'non-empty'],
    ['https://example.com/c\r\nb', 'control characters'],
    ['https://example.com/cb\nSet-Cookie:x=1', 'control characters'],
    ['https://example.com/cb\u0000', 'control characters'],
    ['https://exa\tmple.com/cb', 'control characters'],
    [' https://example.com/cb', 'control characters'],
    ['https://example.com/cb\u007f', 'control characters'],
    ['cursor://cb\u0085', 'control characters'],
  ])('refuses %s (%s)', (uri, reason) => {
    expect(() => checkRedirectUri(uri)).toThrow(
      expect.objectContaining({ code: 'invalid_redirect_uri', message: expect.stringContaining(reason) }),
    );
  });

  it('refuses non-strings and very long URIs', () => {
    expect(() => checkRedirectUri(42)).toThrow(expect.objectContaining({ code: 'invalid_redirect_uri' }));
    expect(() => checkRedirectUri(`https://example.com/${'a'.repeat(2000)}`)).toThrow(
      expect.objectContaining({ code: 'invalid_redirect_uri' }),
    );
  });
});

describe('matchRedirectUri', () => {
  it('matches non-loopback URIs exactly', () => {
    expect(matchRedirectUri('https://app.example/cb', 'https://app.example/cb')).toBe(true);
    expect(matchRedirectUri('https://app.example/cb', 'https://app.example/cb/')).toBe(false);
    expect(matchRedirectUri('https://app.example/cb', 'https://APP.example/cb')).toBe(false);
    expect(matchRedirectUri('https://app.example:443/cb', 'https://app.example:8443/cb')).toBe(false);
    expect(
      matchRedirectUri('cursor://anysphere.cursor-mcp/oauth/callback', 'cursor://anysphere.cursor-mcp/oauth/callback'),
    ).toBe(true);
    expect(
      matchRedirectUri('cursor://anysphere.cursor-mcp/oauth/callback', 'cursor://anysphere.cursor-mcp/oauth/callback2'),
    ).toBe(false);
  });

  it('never matches a presented URI that carries control characters (docs/security.md S36)', () => {
    expect(matchRedirectUri('http://127.0.0.1/cb', 'http://127.0.0.1:5000/c\tb')).toBe(false);
    expect(matchRedirectUri('http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb\n')).toBe(false);
  });

  it('ignores the port of a loopback redirect (RFC 8252 §7.3) but nothing else', () => {
    expect(matchRedirectUri('http://127.0.0.1/', 'http://127.0.0.1:33418/')).toBe(true);
    expect(matchRedirectUri('http://localhost:3000/callback', 'http://localhost:49152/callback')).toBe(true);
    expect(matchRedirectUri('http://[::1]/cb', 'http://[::1]:5000/cb')).toBe(true);
    expect(matchRedirectUri('http://localhost/callback', 'http://localhost:1/other')).toBe(false);
    expect(matchRedirectUri('http://localhost/callback', 'http://127.0.0.1:1/callback')).toBe(false);
    expect(matchRedirectUri('http://localhost/callback', 'https://localhost:1/callback')).toBe(false);
    expect(matchRedirectUri('http://localhost/callback?a=1', 'http://localhost:1/callback?a=2')).toBe(false);
    expect(matchRedirectUri('http://localhost/callback', 'http://localhost:1/callback#x')).toBe(false);
    expect(matchRedirectUri('http://localhost/callback', 'http://u@localhost:1/callback')).toBe(false);
    expect(matchRedirectUri('http://localhost/callback', 'http://localhost.evil.com/callback')).toBe(false);
  });

  it('never matches on a prefix', () => {
    expect(matchRedirectUri('https://app.example/cb', 'https://app.example/cb/../../evil')).toBe(false);
    expect(matchRedirectUri('http://localhost', 'http://localhost.evil.com')).toBe(false);
  });
});
