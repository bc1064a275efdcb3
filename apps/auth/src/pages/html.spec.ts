import { escapeHtml, html, PAGE_HEADERS, SafeHtml } from './html';
import { describeRedirect } from './pages';

describe('html tagged template', () => {
  it('escapes every interpolated string (docs/security.md S13: reflected XSS)', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
  });

  it('inserts nested html and arrays of it as is, and drops empty values', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>${undefined}${false}${null}${0}`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul>0');
    expect(html`${new SafeHtml('<br>')}`.value).toBe('<br>');
  });

  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('forbids framing and everything but the hashed inline style', () => {
    expect(PAGE_HEADERS['content-security-policy']).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; .*frame-ancestors 'none'$/,
    );
  });
});

describe('describeRedirect', () => {
  it('warns for loopback and private-use schemes, not for https', () => {
    expect(describeRedirect('https://claude.ai/api/mcp/auth_callback')).toEqual({ host: 'claude.ai' });
    expect(describeRedirect('http://127.0.0.1:33418/callback')).toEqual({
      host: '127.0.0.1:33418',
      warning: expect.stringContaining('this computer'),
    });
    expect(describeRedirect('cursor://anysphere.cursor-mcp/oauth/callback')).toEqual({
      host: 'cursor://anysphere.cursor-mcp',
      warning: expect.stringContaining('"cursor:"'),
    });
  });
});
