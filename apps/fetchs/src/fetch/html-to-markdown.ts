import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';

/**
 * HTML → readable Markdown in two well-kept steps:
 * - @mozilla/readability (Firefox Reader View) picks the main content and drops navigation, ads,
 *   scripts and styles. It needs a DOM: linkedom is a light, fast DOM for servers (jsdom would do too,
 *   at several times the memory and start-up cost, and we need no layout or script execution).
 * - turndown turns the cleaned HTML into Markdown (headings, lists, links, code blocks).
 * When Readability finds no article (e.g. a short page), the whole body is converted instead.
 */
export function htmlToMarkdown(html: string, url: string): { title?: string; markdown: string } {
  const page = asDocument(html, url);
  const { document } = parseHTML(page);
  const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
    charThreshold: 0,
  }).parse();
  const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });
  turndown.remove(['script', 'style', 'noscript', 'template', 'iframe']);
  const content = article?.content ?? parseHTML(page).document.body?.innerHTML ?? '';
  const title = article?.title?.trim() || undefined;
  return { title, markdown: turndown.turndown(content).trim() };
}

/**
 * linkedom only builds a body for a whole document, so fragments are wrapped; and Readability resolves
 * relative links against the document's base, which linkedom (no URL) lacks, so one is added.
 */
function asDocument(html: string, url: string): string {
  const page = /<html[\s>]/i.test(html) ? html : `<!doctype html><html><head></head><body>${html}</body></html>`;
  if (/<base\s/i.test(page)) return page;
  const base = `<base href="${url.replace(/[&"<>]/g, (char) => `&#${char.charCodeAt(0)};`)}">`;
  return /<head[^>]*>/i.test(page)
    ? page.replace(/<head[^>]*>/i, (head) => `${head}${base}`)
    : page.replace(/<html[^>]*>/i, (tag) => `${tag}<head>${base}</head>`);
}
