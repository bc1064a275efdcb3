import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/**
 * HTML that is already safe to emit. Only the `html` tag and `raw` make one, so every other value that
 * reaches a page is escaped: escaping is the default, not something to remember (docs/security.md S13).
 * A 20-line tag instead of a template engine: the pages are three small forms, and a dependency would
 * add a second escaping convention to review.
 */
export class SafeHtml {
  public constructor(public readonly value: string) {}

  public toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

/** Tagged template: interpolated strings/numbers are escaped, SafeHtml and arrays of it are inserted as is. */
export function html(strings: TemplateStringsArray, ...values: readonly unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;padding:1rem;display:flex;justify-content:center}
main{max-width:32rem;width:100%}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.warning{border:2px solid #b45309;border-radius:.4rem;padding:.5rem .75rem}
.error{border:2px solid #b91c1c;border-radius:.4rem;padding:.5rem .75rem}
label{display:block;margin:.5rem 0 .25rem;font-weight:600}
input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box}
.actions{display:flex;gap:.75rem;margin-top:1rem;flex-wrap:wrap}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid currentColor;cursor:pointer}
button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}
code{overflow-wrap:anywhere}
`.trim();

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/**
 * Headers of every HTML page: nothing loads but the inline style (by hash), no framing (clickjacking on
 * the consent form, OAuth 2.0 Security BCP §4.16), no caching, no referrer leaking codes or state.
 * No `form-action`: Chromium applies it to the redirect that follows a form post, and the consent
 * form's answer is a redirect to the client.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  pragma: 'no-cache',
};

/** Sends a complete page. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: SafeHtml): FastifyReply {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
  return reply.status(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(page.value);
}
