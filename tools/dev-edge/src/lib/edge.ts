import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent } from 'undici';
import type { ForwardAuthMiddleware, HeadersMiddleware, Route } from './routing-table';
import { findRoute } from './routing-table';

export interface EdgeOptions {
  /** The scheme clients used (X-Forwarded-Proto); `http` on one machine. */
  readonly scheme?: 'http' | 'https';
  /** Called once per request that failed inside the edge (upstream down, /verify unreachable). */
  readonly onError?: (error: Error, request: IncomingMessage) => void;
}

/** The edge's server, with a graceful stop. */
export interface Edge extends Server {
  /**
   * Stops accepting connections and waits for the requests in flight (event streams included) to end, for at
   * most `timeoutMs`; then closes what is left. Resolves when every connection is closed.
   */
  drain(timeoutMs: number): Promise<void>;
}

type HeaderValue = string | string[];
/** Request bodies up to this size (the largest MCP_MAX_BODY_BYTES) are read whole before forwarding; larger ones stream. */
const BUFFERED_BODY_BYTES = 64 * 1024 * 1024;
/**
 * Answers up to this size with a Content-Length (not an event stream) are read whole and written with their headers
 * in one write; others stream back as they come.
 */
const BUFFERED_ANSWER_BYTES = 1024 * 1024;
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
 * (headers/CORS, forwardAuth, stripPrefix, redirectScheme), then the service. Forwarding is undici's: bodies
 * stream back (SSE unbuffered), and an upstream that answers before it read the whole body (a 413) has its
 * answer passed on, as Go's transport does for Traefik (http-proxy turned it into a 502 on the EPIPE).
 */
export function createEdge(table: readonly Route[], options: EdgeOptions = {}): Edge {
  const scheme = options.scheme ?? 'http';
  const agent = new Agent({ connect: { timeout: 5_000 } });
  const inFlight = new Set<ServerResponse>();
  let draining = false;

  const fail = (error: Error, req: IncomingMessage, res: ServerResponse, status: number, what: string) => {
    options.onError?.(error, req);
    if (res.headersSent) res.destroy();
    else if (!res.destroyed) sendError(res, status, what);
  };

  /** `left` aborts when the client leaves before its answer is complete: what the edge asked upstream is cancelled. */
  const handle = async (req: IncomingMessage, res: ServerResponse, left: AbortSignal): Promise<void> => {
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

    for (const middleware of route.middlewares) {
      if ('headers' in middleware) {
        if (applyHeaders(middleware.headers, req, res, responseHeaders)) return;
      } else if ('forwardAuth' in middleware) {
        let passed: boolean;
        try {
          passed = await forwardAuth(middleware.forwardAuth, req, res, responseHeaders, scheme, agent, left);
        } catch (error) {
          if (left.aborted) return; // the client left: nothing to answer, nothing went wrong upstream
          // RFC 9110 §15.6.3: the gateway got no valid answer from the server it needed.
          return fail(error as Error, req, res, 502, 'the authorization server is unreachable');
        }
        if (!passed) return;
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
    try {
      await forward(req, res, target, responseHeaders, scheme, agent, left, () => draining);
    } catch (error) {
      if (!left.aborted) fail(error as Error, req, res, 502, 'the service is unreachable');
    }
  };

  const server = createServer((req, res) => {
    const left = new AbortController();
    inFlight.add(res);
    // One listener per request: drain's bookkeeping and the abort of what is still upstream.
    res.on('close', () => {
      inFlight.delete(res);
      if (!res.writableFinished) left.abort();
    });
    handle(req, res, left.signal).catch((error: Error) =>
      fail(error, req, res, 502, 'the edge could not forward the request'),
    );
  }) as Edge;

  server.drain = async (timeoutMs) => {
    draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + timeoutMs;
    while (inFlight.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    server.closeAllConnections();
    await agent.close().catch(() => undefined);
    await closed;
  };
  return server;
}

/** Forwards to the service and streams its answer back; rejects when the service cannot be reached. */
async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: string,
  extraResponseHeaders: Record<string, HeaderValue>,
  scheme: string,
  agent: Agent,
  left: AbortSignal,
  draining: () => boolean,
): Promise<void> {
  const headers: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'expect') headers[name] = value;
  // What http-proxy's xfwd and Traefik add.
  const client = req.socket.remoteAddress ?? '';
  Object.assign(headers, {
    'x-forwarded-for': client,
    'x-forwarded-host': req.headers.host ?? '',
    'x-forwarded-port': String(req.socket.localPort ?? ''),
    'x-forwarded-proto': scheme,
    'x-real-ip': client,
  });
  const length = req.headers['content-length'];
  if (length !== undefined) headers['content-length'] = length;
  const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  // A body of known size is read first and sent in one write: then a service that answers before reading it
  // (Fastify's 413 over its bodyLimit, then a closed connection) has its answer read before the reset.
  let body: IncomingMessage | Buffer | null = null;
  if (hasBody) body = Number(length) <= BUFFERED_BODY_BYTES ? Buffer.concat(await req.toArray()) : req;
  // The upstream is an origin (the balancer's server URL); the path is the request's, as given.
  const answer = await agent.request({
    origin: upstream,
    path: req.url ?? '/',
    method: (req.method ?? 'GET') as 'GET',
    headers,
    body,
    signal: left,
  });
  const copied: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(answer.headers))
    if (value !== undefined && (!HOP_BY_HOP.has(name) || name === 'content-length')) copied[name] = value;
  // Response headers a middleware adds (CORS, customResponseHeaders) override the upstream's, as in Traefik.
  Object.assign(copied, extraResponseHeaders);
  if (draining()) copied['connection'] = 'close';
  // An unread request body (a streamed one the service answered early) is dropped, not waited for.
  const dropUnreadBody = () => {
    if (hasBody && !req.readableEnded) req.resume();
  };
  const answerLength = Number(answer.headers['content-length'] ?? Number.NaN);
  if (answerLength <= BUFFERED_ANSWER_BYTES && !isEventStream(answer.headers['content-type'])) {
    // A small complete answer: headers and body in one write.
    const whole = Buffer.from(await answer.body.arrayBuffer());
    res.writeHead(answer.statusCode, copied);
    dropUnreadBody();
    res.end(whole);
    return;
  }
  res.writeHead(answer.statusCode, copied);
  // An event stream's headers go at once: a client waits for them before it reads events.
  res.flushHeaders();
  dropUnreadBody();
  // The client left, or the service died mid-response: pipeline destroys both sides, so the client sees the error
  // (as with Traefik) instead of a stream that never ends.
  await pipeline(answer.body, res).catch(() => undefined);
}

/** A forwardAuth middleware prepared once: its address as an origin and a path, its header lists in lower case. */
interface AuthTarget {
  readonly origin: string;
  readonly path: string;
  /** authRequestHeaders: the only client headers sent to the auth server; all when absent. */
  readonly requestHeaders?: ReadonlySet<string>;
  readonly responseHeaders: readonly string[];
}
const authTargets = new WeakMap<ForwardAuthMiddleware, AuthTarget>();
function authTargetOf(auth: ForwardAuthMiddleware): AuthTarget {
  let target = authTargets.get(auth);
  if (!target) {
    const url = new URL(auth.address);
    target = {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      requestHeaders: auth.authRequestHeaders && new Set(auth.authRequestHeaders.map((name) => name.toLowerCase())),
      responseHeaders: (auth.authResponseHeaders ?? []).map((name) => name.toLowerCase()),
    };
    authTargets.set(auth, target);
  }
  return target;
}

function isEventStream(contentType: HeaderValue | undefined): boolean {
  return /^text\/event-stream/i.test(String(contentType ?? ''));
}

/** An edge failure as JSON (the clients are OAuth and MCP clients, which read JSON), never cached. */
function sendError(res: ServerResponse, status: number, description: string): void {
  const body = JSON.stringify({
    error: status === 503 ? 'temporarily_unavailable' : 'bad_gateway',
    error_description: description,
  });
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
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
  if (!origin) return false;
  const allowOrigin = allowedOrigin(headers, origin);
  if (allowOrigin) {
    if (headers.addVaryHeader && allowOrigin !== '*') responseHeaders['vary'] = 'Origin';
    if (headers.accessControlAllowCredentials) responseHeaders['access-control-allow-credentials'] = 'true';
    responseHeaders['access-control-allow-origin'] = allowOrigin;
  }

  // Fetch standard §3.2.2: a preflight is an OPTIONS request with Origin and Access-Control-Request-Method. Like
  // Traefik, the middleware answers every preflight itself, naming the origin only when it is allowed (a refused
  // origin then fails in the browser, instead of reaching the service).
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
  if (allowOrigin && headers.accessControlExposeHeaders)
    responseHeaders['access-control-expose-headers'] = headers.accessControlExposeHeaders.join(',');
  return false;
}

/** Traefik's origin match: `*`, an exact entry of the list, or a match of one of the regular expressions. */
function allowedOrigin(headers: HeadersMiddleware, origin: string): string | undefined {
  const origins = headers.accessControlAllowOriginList ?? [];
  if (origins.includes('*')) return '*';
  if (origins.includes(origin)) return origin;
  return (headers.accessControlAllowOriginListRegex ?? []).some((pattern) => new RegExp(pattern).test(origin))
    ? origin
    : undefined;
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
  agent: Agent,
  left: AbortSignal,
): Promise<boolean> {
  const target = authTargetOf(auth);
  const allowed = target.requestHeaders;
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'host' && (!allowed || allowed.has(name)))
      headers[name] = value;
  }
  Object.assign(headers, {
    'x-forwarded-method': req.method ?? 'GET',
    'x-forwarded-proto': scheme,
    'x-forwarded-host': req.headers.host ?? '',
    'x-forwarded-uri': req.url ?? '/',
    'x-forwarded-for': req.socket.remoteAddress ?? '',
  });
  const answer = await agent.request({
    origin: target.origin,
    path: target.path,
    method: 'GET',
    headers: headers as Record<string, string | string[]>,
    signal: left,
  });
  if (answer.statusCode >= 200 && answer.statusCode < 300) {
    await answer.body.dump();
    for (const key of target.responseHeaders) {
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
