import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Agent } from 'undici';
import { AddressPolicy, createGuardedAgent, HostResolver } from '@gateway/egress';
import { FetchFailed, FetchRefused } from './fetch-errors';
import { type FetchLimits, fetchBounded, safeHeaders } from './http-fetcher';

type Handler = (request: IncomingMessage, response: ServerResponse) => unknown;

interface TestServer {
  readonly port: number;
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

async function serve(handler: Handler): Promise<TestServer> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    void handler(request, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
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

const LIMITS: FetchLimits = { maxBytes: 1024 * 1024, maxRedirects: 3, timeoutMs: 3_000, userAgent: 'TestBot/1.0' };

describe('fetchBounded through the guarded agent', () => {
  let site: TestServer;
  let secret: TestServer;
  // A DNS table standing in for the network's resolver (the e2e suite uses a real DNS server stub).
  const DNS: Record<string, string[]> = {
    'private.test': ['10.1.2.3'],
    'mixed.test': ['93.184.216.34', '192.168.0.10'],
    'metadata.test': ['169.254.169.254'],
    'ula.test': ['fd00::5'],
    'site.test': ['127.0.0.1'],
    'two.test': ['::1', '127.0.0.1'],
  };
  const lookups: string[] = [];
  const resolver = {
    resolve: async (host: string): Promise<string[]> => {
      lookups.push(host);
      return DNS[host] ?? [host];
    },
  };
  let agent: Agent;
  let sentBytes = 0;

  beforeAll(async () => {
    secret = await serve((_, response) => response.end('internal secret'));
    site = await serve(async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/hello':
          response.setHeader('content-type', 'text/plain');
          response.end(`hello ${request.headers['user-agent']} ${request.headers['x-custom'] ?? ''}`);
          return;
        case '/to-secret':
          response.writeHead(302, { location: `${secret.url}/` }).end();
          return;
        case '/to-hex-loopback':
          response.writeHead(301, { location: `http://0x7f.1:${secret.port}/` }).end();
          return;
        case '/loop':
          response.writeHead(302, { location: '/loop' }).end();
          return;
        case '/post-303':
          response.writeHead(303, { location: '/echo-method' }).end();
          return;
        case '/post-307':
          response.writeHead(307, { location: '/echo-method' }).end();
          return;
        case '/echo-method': {
          let body = '';
          for await (const chunk of request) body += String(chunk);
          response.end(`${request.method} ${body}`);
          return;
        }
        case '/huge': {
          // 50 MB, written with back-pressure, counting what actually left the server.
          const chunk = Buffer.alloc(64 * 1024, 'a');
          response.setHeader('content-type', 'text/plain');
          sentBytes = 0;
          while (sentBytes < 50 * 1024 * 1024 && !response.destroyed) {
            sentBytes += chunk.length;
            if (!response.write(chunk)) await drainedOrClosed(response);
          }
          response.end();
          return;
        }
        case '/bomb':
          response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
          response.end(gzipSync(Buffer.alloc(30 * 1024 * 1024)));
          return;
        case '/slow':
          return; // never answers
        default:
          response.writeHead(404).end('not found');
      }
    });
    agent = createGuardedAgent({
      policy: new AddressPolicy({
        allow: [`127.0.0.1:${site.port}`, `site.test:${site.port}`, `two.test:${site.port}`],
        deny: [],
      }),
      resolver,
      connectTimeoutMs: 2_000,
    });
  });

  afterAll(async () => {
    await agent.destroy();
    await Promise.all([site.close(), secret.close()]);
  });

  it('fetches from an allowed destination with our user agent and the safe headers', async () => {
    const response = await fetchBounded(agent, { url: `${site.url}/hello`, headers: { 'X-Custom': 'yes' } }, LIMITS);
    expect(response).toMatchObject({ status: 200, truncated: false, url: `${site.url}/hello` });
    expect(response.body.toString()).toBe('hello TestBot/1.0 yes');
  });

  it('answers HEAD with status and headers only', async () => {
    const response = await fetchBounded(agent, { url: `${site.url}/hello`, method: 'HEAD' }, LIMITS);
    expect(response).toMatchObject({
      status: 200,
      body: Buffer.alloc(0),
      headers: expect.objectContaining({ 'content-type': 'text/plain' }),
    });
  });

  it.each([
    ['decimal', (port: number) => `http://2130706433:${port}/`],
    ['hex', (port: number) => `http://0x7f.1:${port}/`],
    ['octal', (port: number) => `http://0177.0.0.1:${port}/`],
    ['short', (port: number) => `http://127.1:${port}/`],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/`],
    ['IPv4-mapped IPv6', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
  ])('refuses the %s spelling of loopback before connecting', async (_, url) => {
    await expect(fetchBounded(agent, { url: url(secret.port) }, LIMITS)).rejects.toThrow(/refused: .*loopback/);
    expect(secret.requests).toEqual([]);
  });

  it('refuses localhost through the system resolver', async () => {
    const system = createGuardedAgent({
      policy: new AddressPolicy({ allow: [], deny: [] }),
      resolver: new HostResolver([], 2_000),
      connectTimeoutMs: 2_000,
    });
    try {
      await expect(fetchBounded(system, { url: `http://localhost:${secret.port}/` }, LIMITS)).rejects.toThrow(
        /refused: localhost \((127\.0\.0\.1|::1)\) is not public \(loopback/,
      );
    } finally {
      await system.destroy();
    }
    expect(secret.requests).toEqual([]);
  });

  it.each([
    ['private.test', /10\.1\.2\.3\) is not public \(private network/],
    ['mixed.test', /192\.168\.0\.10\) is not public \(private network/],
    ['metadata.test', /169\.254\.169\.254\) is not public \(link-local/],
    ['ula.test', /fd00::5\) is not public \(unique-local/],
  ])('refuses %s, whose DNS answer holds a refused address', async (host, reason) => {
    await expect(fetchBounded(agent, { url: `http://${host}:${site.port}/hello` }, LIMITS)).rejects.toThrow(reason);
  });

  it('connects to the address it checked, resolving the name once per connection', async () => {
    lookups.length = 0;
    const response = await fetchBounded(agent, { url: `http://site.test:${site.port}/hello` }, LIMITS);
    expect(response.body.toString()).toContain('hello');
    expect(lookups).toEqual(['site.test']);
  });

  it('falls back to the next checked address when the first does not answer', async () => {
    // The site listens on 127.0.0.1 only, so ::1 refuses the connection.
    const response = await fetchBounded(agent, { url: `http://two.test:${site.port}/hello` }, LIMITS);
    expect(response.body.toString()).toContain('hello');
  });

  it('re-checks every redirect target', async () => {
    await expect(fetchBounded(agent, { url: `${site.url}/to-secret` }, LIMITS)).rejects.toThrow(
      new FetchRefused(
        `refused: 127.0.0.1 is not public (loopback address); fetchs reaches only public addresses unless FETCH_ALLOW lists them`,
      ),
    );
    await expect(fetchBounded(agent, { url: `${site.url}/to-hex-loopback` }, LIMITS)).rejects.toThrow(/loopback/);
    expect(secret.requests).toEqual([]);
  });

  it('stops after FETCH_MAX_REDIRECTS', async () => {
    await expect(fetchBounded(agent, { url: `${site.url}/loop` }, LIMITS)).rejects.toThrow(
      'too many redirects (more than 3)',
    );
  });

  it('turns a POST into a GET on 303 and keeps it on 307 (RFC 9110 §15.4)', async () => {
    const see = await fetchBounded(agent, { url: `${site.url}/post-303`, method: 'POST', body: 'data' }, LIMITS);
    expect(see.body.toString()).toBe('GET ');
    const keep = await fetchBounded(agent, { url: `${site.url}/post-307`, method: 'POST', body: 'data' }, LIMITS);
    expect(keep.body.toString()).toBe('POST data');
  });

  it('stops reading a 50 MB body at maxBytes, so the server stops sending early', async () => {
    const response = await fetchBounded(agent, { url: `${site.url}/huge` }, LIMITS);
    expect(response.truncated).toBe(true);
    expect(response.body.length).toBe(LIMITS.maxBytes);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sentBytes).toBeLessThan(20 * 1024 * 1024);
  });

  it('bounds decompression: a 30 MB gzip bomb yields at most maxBytes', async () => {
    const response = await fetchBounded(agent, { url: `${site.url}/bomb` }, LIMITS);
    expect(response).toMatchObject({ truncated: true });
    expect(response.body.length).toBe(LIMITS.maxBytes);
  });

  it('gives up after the total timeout', async () => {
    await expect(fetchBounded(agent, { url: `${site.url}/slow` }, { ...LIMITS, timeoutMs: 300 })).rejects.toThrow(
      new FetchFailed('timed out after 300 ms (FETCH_TIMEOUT_MS)'),
    );
  });

  it('bounds name resolution by the connect timeout', async () => {
    const silent = createGuardedAgent({
      policy: new AddressPolicy({ allow: [], deny: [] }),
      resolver: { resolve: () => new Promise<string[]>(() => undefined) }, // a DNS server that never answers
      connectTimeoutMs: 200,
    });
    try {
      await expect(fetchBounded(silent, { url: 'http://slow-dns.test/' }, LIMITS)).rejects.toThrow(
        new FetchFailed('timed out after 200 ms resolving slow-dns.test'),
      );
    } finally {
      await silent.destroy();
    }
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/', 'gopher://127.0.0.1:70/'])(
    'refuses the scheme of %s',
    async (url) => {
      await expect(fetchBounded(agent, { url }, LIMITS)).rejects.toThrow(/refused: scheme/);
    },
  );
});

describe('safeHeaders', () => {
  it.each([
    'Host',
    'Authorization',
    'Cookie',
    'Proxy-Authorization',
    'Connection',
    'Transfer-Encoding',
    'X-Forwarded-For',
    'User-Agent',
    'X-User-Id',
    'X-Scope',
  ])('refuses %s', (name) => {
    expect(() => safeHeaders({ [name]: 'x' })).toThrow(FetchRefused);
  });

  it('keeps ordinary headers, lower-cased', () => {
    expect(safeHeaders({ Accept: 'text/html', 'Accept-Language': 'de' })).toEqual({
      accept: 'text/html',
      'accept-language': 'de',
    });
  });

  it('refuses header injection', () => {
    expect(() => safeHeaders({ accept: 'a\r\nx: y' })).toThrow(FetchFailed);
  });
});
