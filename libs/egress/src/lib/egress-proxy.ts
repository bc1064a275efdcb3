import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import type { AddressPolicy } from './address-policy';
import { EgressFailed, EgressRefused } from './errors';
import { answerWith, createGuardedAgent, type HostResolver, withTimeout } from './guarded-agent';

export interface EgressProxyOptions {
  readonly policy: AddressPolicy;
  readonly resolver: Pick<HostResolver, 'resolve'>;
  /** Bound on name resolution plus connecting, per connection. */
  readonly connectTimeoutMs: number;
  /** A tunnel or request idle this long is closed. */
  readonly idleTimeoutMs: number;
  /** One line per decision (host, port, allowed or why not). */
  readonly audit?: (line: { method: string; host: string; port: number; status: number; reason?: string }) => void;
}

export interface EgressProxy {
  /** `http://host:port`, for a child's HTTP_PROXY / HTTPS_PROXY. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** RFC 9110 §7.6.1 hop-by-hop fields, and the proxy's own: never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * The egress proxy of the stdio children whose service needs the internet (catalog `egress: internet`): an HTTP
 * forward proxy (RFC 9110 §9.3.6 CONNECT for https and for Node's env-proxy, absolute-form requests for plain
 * http) that applies fetchs' address policy to every destination AFTER resolving it once, and connects to the
 * checked address only (the same pinned connector as fetchs: no DNS rebinding). A refusal is `403` with an
 * RFC 9209 `Proxy-Status` naming the reason; the socket to the destination is never opened.
 */
export async function startEgressProxy(
  options: EgressProxyOptions,
  listen: { readonly host: string; readonly port: number },
): Promise<EgressProxy> {
  const agent = createGuardedAgent(options);
  const server = createServer((req, res) => void forward(req, res, agent, options));
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void tunnel(req, socket, head, options));
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = isIP(listen.host) === 6 ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}

/** `host:port` of a CONNECT request (RFC 9110 §9.3.6: authority-form), or undefined. */
function authorityOf(target: string | undefined): { host: string; port: number } | undefined {
  if (!target) return undefined;
  try {
    const url = new URL(`http://${target}`);
    const port = Number(target.slice(target.lastIndexOf(':') + 1));
    if (url.pathname !== '/' || url.search || url.username || !Number.isInteger(port) || port < 1 || port > 65535)
      return undefined;
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  } catch {
    return undefined;
  }
}

/** RFC 9209 §2.3 error types for the refusals. */
function proxyStatus(error: unknown): { status: number; header: string; reason: string } {
  const reason = error instanceof Error ? error.message : String(error);
  const details = reason.replace(/["\\]/g, "'");
  if (error instanceof EgressRefused)
    return { status: 403, header: `egress; error=destination_ip_prohibited; details="${details}"`, reason };
  return { status: 502, header: `egress; error=destination_unavailable; details="${details}"`, reason };
}

async function tunnel(req: IncomingMessage, client: Duplex, head: Buffer, options: EgressProxyOptions): Promise<void> {
  client.on('error', () => client.destroy());
  const target = authorityOf(req.url);
  if (!target) {
    client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  let upstream: Socket;
  try {
    const checked = await withTimeout(
      options.resolver
        .resolve(target.host)
        .then((addresses) => options.policy.check(target.host, target.port, addresses)),
      options.connectTimeoutMs,
      `resolving ${target.host}`,
    );
    upstream = await new Promise<Socket>((resolve, reject) => {
      const socket = connect({
        host: target.host,
        port: target.port,
        lookup: answerWith(checked),
        autoSelectFamily: true,
        timeout: options.connectTimeoutMs,
      });
      socket.once('connect', () => resolve(socket));
      socket.once('timeout', () => socket.destroy(new EgressFailed(`connect to ${target.host} timed out`)));
      socket.once('error', (error) =>
        reject(
          error instanceof EgressFailed
            ? error
            : new EgressFailed(`cannot connect to ${target.host}: ${error.message}`),
        ),
      );
    });
  } catch (error) {
    const { status, header, reason } = proxyStatus(error);
    options.audit?.({ method: 'CONNECT', ...target, status, reason });
    const body = `${reason}\n`;
    client.end(
      `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Gateway'}\r\nProxy-Status: ${header}\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return;
  }
  options.audit?.({ method: 'CONNECT', ...target, status: 200 });
  upstream.setTimeout(options.idleTimeoutMs, () => {
    upstream.destroy();
    client.destroy();
  });
  client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) upstream.write(head);
  upstream.on('error', () => client.destroy());
  upstream.pipe(client);
  client.pipe(upstream);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  return Object.fromEntries(
    Object.entries(headers).filter(
      (entry): entry is [string, string | string[]] =>
        entry[1] !== undefined && !HOP_BY_HOP.has(entry[0]) && !named.has(entry[0]),
    ),
  );
}

/** Plain http through the proxy (absolute-form, RFC 9112 §3.2.2); `GET /healthz` in origin-form is the liveness probe. */
async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  agent: ReturnType<typeof createGuardedAgent>,
  options: EgressProxyOptions,
): Promise<void> {
  if (req.url === '/healthz' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('an egress proxy request names an absolute http URL\n');
    return;
  }
  const port = Number(url.port) || 80;
  if (url.protocol !== 'http:' || url.username || url.password) {
    res
      .writeHead(400, { 'content-type': 'text/plain' })
      .end('only http URLs without credentials (https: use CONNECT)\n');
    return;
  }
  try {
    const answer = await request(url, {
      method: req.method as 'GET',
      headers: { ...forwardable(req.headers), host: url.host },
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
      dispatcher: agent,
      headersTimeout: options.idleTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
    });
    options.audit?.({ method: req.method ?? 'GET', host: url.hostname, port, status: answer.statusCode });
    res.writeHead(answer.statusCode, forwardable(answer.headers as IncomingHttpHeaders));
    await pipeline(answer.body, res);
  } catch (error) {
    const { status, header, reason } = proxyStatus(error);
    options.audit?.({ method: req.method ?? 'GET', host: url.hostname, port, status, reason });
    if (res.headersSent) res.destroy();
    else
      res.writeHead(status, { 'proxy-status': header, 'content-type': 'text/plain; charset=utf-8' }).end(`${reason}\n`);
  }
}
