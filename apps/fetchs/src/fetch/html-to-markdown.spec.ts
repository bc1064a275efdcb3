import { htmlToMarkdown } from './html-to-markdown';

const PAGE = `<!doctype html><html><head><title>Tea guide</title><style>body{color:red}</style>
<script>window.secret = "do-not-show";</script></head>
<body><nav><a href="/">Home</a> | <a href="/shop">Shop</a></nav>
<article><h1>Brewing green tea</h1>
<p>Green tea wants water at <strong>about 80 °C</strong>, not boiling. Steep it for two minutes and no longer,
or it turns bitter. This paragraph is long enough for Readability to treat it as the main content of the page.</p>
<h2>Steps</h2><ul><li>Warm the pot</li><li>Add leaves</li></ul>
<p>See <a href="/more">more notes</a> for oolong.</p></article>
<footer>© tea corp</footer></body></html>`;

describe('htmlToMarkdown', () => {
  it('keeps the main content as Markdown and drops scripts and styles', () => {
    const { title, markdown } = htmlToMarkdown(PAGE, 'https://tea.example/guide');
    expect(title).toBe('Tea guide');
    expect(markdown).toContain('## Steps');
    expect(markdown).toMatch(/-\s+Warm the pot/);
    expect(markdown).toContain('**about 80 °C**');
    expect(markdown).toContain('[more notes](https://tea.example/more)');
    expect(markdown).not.toContain('do-not-show');
    expect(markdown).not.toContain('color:red');
    expect(markdown).not.toContain('<p>');
  });

  it('converts a page without an article', () => {
    expect(htmlToMarkdown('<p>Just <em>one</em> line</p>', 'http://x.example/').markdown).toBe('Just _one_ line');
  });
});
