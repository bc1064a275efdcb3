import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { request } from 'undici';
import type { ForwardAuthMiddleware, HeadersMiddleware, Route } from './routing-table';
import { findRoute } from './routing-table';

export interface EdgeOptions {
  /** The scheme clients used (X-Forwarded-Proto); `http` on one machine. */
  readonly scheme?: 'http' | 'https';
  /** Called once per request that failed inside the edge (upstream down, /verify unreachable). */
  readonly onError?: (error: Error, request: IncomingMessage) => void;
}

type HeaderValue = string | string[];
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/**
 * The dev edge: a reverse proxy that does for one machine what Traefik does in production, from the same
 * dynamic configuration. Per request: the highest-priority matching router, its middlewares in order
 * (headers/CORS, forwardAuth, stripPrefix, redirectScheme), then the service. Proxying is http-proxy-3's
 * (a maintained rewrite of node-http-proxy): bodies are piped both ways, so SSE streams pass unbuffered.
 */
export function createEdge(table: readonly Route[], options: EdgeOptions = {}): Server {
  const scheme = options.scheme ?? 'http';
  const proxy = createProxyServer({ xfwd: true, changeOrigin: false });
  // Response headers a middleware adds (CORS, customResponseHeaders) override the upstream's, as in Traefik.
  const extraResponseHeaders = new WeakMap<IncomingMessage, Record<string, HeaderValue>>();
  proxy.on('proxyRes', (proxyRes, req, res) => {
    for (const [name, value] of Object.entries(extraResponseHeaders.get(req) ?? {})) proxyRes.headers[name] = value;
    // An upstream that dies mid-response (a crashed replica under an SSE stream) closes the client's connection
    // too, as Traefik does: the client sees the error instead of a stream that never ends.
    proxyRes.once('close', () => {
      if (!proxyRes.complete) res.destroy();
    });
  });

  const fail = (error: Error, req: IncomingMessage, res: ServerResponse, status: number) => {
    options.onError?.(error, req);
    if (res.headersSent) res.destroy(error);
    else
      res
        .writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`${status === 502 ? 'Bad Gateway' : 'Internal Server Error'}\n`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const route = findRoute(table, {
      host: hostnameOf(req.headers.host),
      path: url.split('?')[0] ?? '/',
      method: req.method ?? 'GET',
    });
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    // Like Traefik without trustedIPs: a client's own X-Forwarded-* are dropped, the edge sets them.
    for (const name of Object.keys(req.headers))
      if (name.startsWith('x-forwarded-') || name === 'x-real-ip') delete req.headers[name];
    const responseHeaders: Record<string, HeaderValue> = {};
    extraResponseHeaders.set(req, responseHeaders);

    for (const middleware of route.middlewares) {
      if ('headers' in middleware) {
        if (applyHeaders(middleware.headers, req, res, responseHeaders)) return;
      } else if ('forwardAuth' in middleware) {
        if (!(await forwardAuth(middleware.forwardAuth, req, res, responseHeaders, scheme))) return;
      } else if ('stripPrefix' in middleware) {
        stripPrefix(middleware.stripPrefix.prefixes, req);
      } else if ('redirectScheme' in middleware) {
        const { scheme: target, permanent } = middleware.redirectScheme;
        const status = permanent
          ? req.method === 'GET' || req.method === 'HEAD'
            ? 301
            : 308
          : req.method === 'GET' || req.method === 'HEAD'
            ? 302
            : 307;
        res.writeHead(status, { location: `${target}://${hostnameOf(req.headers.host)}${req.url}` }).end();
        return;
      }
    }
    const target = route.balancer.next();
    if (!target) {
      // Traefik's answer when every server of the service fails its health check.
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('no available server\n');
      return;
    }
    proxy.web(req, res, { target }, (error) => fail(error as Error, req, res, 502));
  };

  return createServer((req, res) => {
    handle(req, res).catch((error: Error) => fail(error, req, res, 500));
  });
}

/** Traefik's headers middleware. Returns true when it answered a CORS preflight itself. */
function applyHeaders(
  headers: HeadersMiddleware,
  req: IncomingMessage,
  res: ServerResponse,
  responseHeaders: Record<string, HeaderValue>,
): boolean {
  for (const [name, value] of Object.entries(headers.customRequestHeaders ?? {})) {
    // An empty value removes the header (Traefik's documented behaviour).
    if (value === '') delete req.headers[name.toLowerCase()];
    else req.headers[name.toLowerCase()] = value;
  }
  for (const [name, value] of Object.entries(headers.customResponseHeaders ?? {}))
    responseHeaders[name.toLowerCase()] = value;

  const origin = req.headers.origin;
  const origins = headers.accessControlAllowOriginList ?? [];
  const allowOrigin = origin && (origins.includes('*') ? '*' : origins.includes(origin) ? origin : undefined);
  if (!allowOrigin) return false;
  if (headers.addVaryHeader && allowOrigin !== '*') responseHeaders['vary'] = 'Origin';
  if (headers.accessControlAllowCredentials) responseHeaders['access-control-allow-credentials'] = 'true';
  responseHeaders['access-control-allow-origin'] = allowOrigin;

  // Fetch standard §3.2.2: a preflight is an OPTIONS request with Origin and Access-Control-Request-Method.
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    res.writeHead(200, {
      ...responseHeaders,
      ...(headers.accessControlAllowMethods
        ? { 'access-control-allow-methods': headers.accessControlAllowMethods.join(',') }
        : {}),
      ...(headers.accessControlAllowHeaders
        ? { 'access-control-allow-headers': headers.accessControlAllowHeaders.join(',') }
        : {}),
      ...(headers.accessControlMaxAge !== undefined
        ? { 'access-control-max-age': String(headers.accessControlMaxAge) }
        : {}),
      'content-length': '0',
    });
    res.end();
    return true;
  }
  if (headers.accessControlExposeHeaders)
    responseHeaders['access-control-expose-headers'] = headers.accessControlExposeHeaders.join(',');
  return false;
}

/**
 * Traefik's forwardAuth: a GET to `address` with the client's headers (only `authRequestHeaders` if set) and
 * X-Forwarded-Method/-Proto/-Host/-Uri/-For. 2xx: the `authResponseHeaders` replace the request's own copies
 * and the request goes on. Anything else: the auth server's response goes back to the client as is.
 */
async function forwardAuth(
  auth: ForwardAuthMiddleware,
  req: IncomingMessage,
  res: ServerResponse,
  responseHeaders: Record<string, HeaderValue>,
  scheme: string,
): Promise<boolean> {
  const allowed = auth.authRequestHeaders?.map((name) => name.toLowerCase());
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'host' && (!allowed || allowed.includes(name)))
      headers[name] = value;
  }
  Object.assign(headers, {
    'x-forwarded-method': req.method ?? 'GET',
    'x-forwarded-proto': scheme,
    'x-forwarded-host': req.headers.host ?? '',
    'x-forwarded-uri': req.url ?? '/',
    'x-forwarded-for': req.socket.remoteAddress ?? '',
  });
  const answer = await request(auth.address, { method: 'GET', headers: headers as Record<string, string | string[]> });
  if (answer.statusCode >= 200 && answer.statusCode < 300) {
    await answer.body.dump();
    for (const name of auth.authResponseHeaders ?? []) {
      const key = name.toLowerCase();
      delete req.headers[key];
      const value = answer.headers[key];
      if (value !== undefined) req.headers[key] = value;
    }
    return true;
  }
  const body = Buffer.from(await answer.body.arrayBuffer());
  const copied = Object.fromEntries(
    Object.entries(answer.headers).filter(([name, value]) => value !== undefined && !HOP_BY_HOP.has(name)),
  ) as Record<string, HeaderValue>;
  res.writeHead(answer.statusCode, { ...copied, ...responseHeaders, 'content-length': String(body.length) });
  res.end(body);
  return false;
}

/** Traefik's stripPrefix: the first matching prefix goes, the path keeps a leading slash, X-Forwarded-Prefix tells. */
function stripPrefix(prefixes: readonly string[], req: IncomingMessage): void {
  const url = req.url ?? '/';
  const prefix = prefixes.find((candidate) => url.startsWith(candidate));
  if (!prefix) return;
  const rest = url.slice(prefix.length);
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
  req.headers['x-forwarded-prefix'] = prefix;
}

function hostnameOf(host: string | undefined): string {
  try {
    return new URL(`http://${host ?? ''}`).hostname.toLowerCase();
  } catch {
    return '';
  }
}
