import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestSite {
  readonly port: number;
  readonly origin: string;
  /** `METHOD path` of every request received. */
  readonly requests: string[];
  /** Body bytes the `/huge` route actually handed to the socket (it stops when the client goes away). */
  hugeBytesSent(): number;
  close(): Promise<void>;
}

export const ARTICLE_HTML = `<!doctype html><html><head><title>Tea guide</title><style>body{color:red}</style>
<script>window.secret = "script-must-not-show";</script></head>
<body><nav><a href="/">Home</a> | <a href="/shop">Shop</a></nav>
<article><h1>Brewing green tea</h1>
<p>Green tea wants water at <strong>about 80 °C</strong>, not boiling. Steep it for two minutes and no longer,
or it turns bitter. This paragraph is long enough for Readability to treat it as the main content of the page.</p>
<h2>Steps</h2><ul><li>Warm the pot</li><li>Add leaves</li></ul>
<p>See <a href="/more">more notes</a> for oolong.</p></article>
<footer>© tea corp</footer></body></html>`;

/** 12 000 characters of distinct lines, so that pages can be stitched back together and compared. */
export const LONG_TEXT = Array.from(
  { length: 400 },
  (_, line) => `line ${String(line).padStart(4, '0')} of the long text\n`,
).join('');

/** A 1×1 PNG. */
export const PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

export const HUGE_BYTES = 200 * 1024 * 1024;

/**
 * The web as fetchs' tests see it: an HTTP server on 127.0.0.1 with an article, long text, a 200 MB
 * stream, redirects (one to `internalOrigin`), a robots.txt, a route that never answers, an image.
 */
export async function startTestSite(internalOrigin = 'http://127.0.0.1:1'): Promise<TestSite> {
  const requests: string[] = [];
  let hugeSent = 0;
  const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => unknown> = {
    '/robots.txt': (_, response) =>
      response
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('User-agent: ModelContextProtocol\nDisallow: /private/\n\nUser-agent: *\nAllow: /\n'),
    '/article': (_, response) =>
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ARTICLE_HTML),
    '/long': (_, response) => response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(LONG_TEXT),
    '/pixel.png': (_, response) => response.writeHead(200, { 'content-type': 'image/png' }).end(PIXEL_PNG),
    '/private/page': (_, response) =>
      response.writeHead(200, { 'content-type': 'text/plain' }).end('robots.txt keeps crawlers out of here'),
    '/redirect-to-article': (_, response) => response.writeHead(302, { location: '/article' }).end(),
    '/redirect-to-internal': (_, response) => response.writeHead(302, { location: `${internalOrigin}/admin` }).end(),
    '/redirect-loop': (_, response) => response.writeHead(302, { location: '/redirect-loop' }).end(),
    '/never-answers': () => undefined,
    '/huge': async (_, response) => {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      hugeSent = 0;
      response.writeHead(200, { 'content-type': 'text/plain' });
      while (hugeSent < HUGE_BYTES && !response.destroyed) {
        hugeSent += chunk.length;
        if (!response.write(chunk)) await drainedOrClosed(response);
      }
      response.end();
    },
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://site').pathname;
    requests.push(`${request.method} ${path}`);
    const route = routes[path];
    if (route) void route(request, response);
    else response.writeHead(404, { 'content-type': 'text/plain' }).end('no such page');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    hugeBytesSent: () => hugeSent,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done).off('close', done);
      resolve();
    };
    response.on('drain', done).on('close', done);
  });
}
