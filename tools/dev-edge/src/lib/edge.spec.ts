// The dev edge over real sockets: a stand-in /verify and an upstream that echoes what it received.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { request } from 'undici';
import { createEdge, type Edge, type EdgeOptions } from './edge';
import { type DynamicConfig, routingTable } from './routing-table';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

let upstream: Server;
let verify: Server;
let edge: Edge;
let edgeUrl: string;
const verifyCalls: IncomingMessage['headers'][] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/mcp/crash') {
      // A replica that dies in the middle of an SSE stream.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n', () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (req.url === '/mcp/stream') {
      // SSE: one event now, the stream stays open until the client leaves.
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'access-control-allow-origin': 'https://upstream.example',
      });
      res.write('data: first\n\n');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  verify = createServer((req, res) => {
    verifyCalls.push(req.headers);
    if (req.headers.authorization === 'Bearer good') {
      res.writeHead(200, { 'x-user-id': 'u1', 'x-user-name': 'alice', 'x-scope': 'mcp' }).end();
    } else {
      res
        .writeHead(401, {
          'www-authenticate':
            'Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource/echo/mcp"',
          'content-type': 'application/json',
        })
        .end('{"error":"invalid_token"}');
    }
  });
  const upstreamUrl = await listen(upstream);
  const verifyUrl = await listen(verify);
  const config: DynamicConfig = {
    http: {
      routers: {
        preflight: {
          rule: 'Host(`localhost`) && Method(`OPTIONS`)',
          priority: 1000,
          middlewares: ['cors'],
          service: 'auth',
        },
        mcp: {
          rule: 'Host(`localhost`) && (Path(`/echo`) || PathPrefix(`/echo/`))',
          priority: 500,
          middlewares: ['cors', 'strip-identity', 'auth', 'strip-echo'],
          service: 'echo',
        },
        auth: { rule: 'Host(`localhost`) && !Path(`/verify`)', priority: 100, middlewares: ['cors'], service: 'auth' },
        secure: { rule: 'Host(`localhost`)', priority: 2000, entryPoints: ['websecure'], service: 'echo' },
      },
      middlewares: {
        cors: {
          headers: {
            accessControlAllowMethods: ['GET', 'POST'],
            accessControlAllowHeaders: ['Authorization', 'Mcp-Session-Id'],
            accessControlExposeHeaders: ['Mcp-Session-Id', 'WWW-Authenticate'],
            accessControlAllowOriginList: ['*'],
            accessControlMaxAge: 600,
          },
        },
        'strip-identity': { headers: { customRequestHeaders: { 'X-User-Id': '', 'X-User-Email': '' } } },
        auth: {
          forwardAuth: {
            address: `${verifyUrl}/verify`,
            authRequestHeaders: ['Authorization'],
            authResponseHeaders: ['X-User-Id', 'X-User-Name', 'X-User-Email', 'X-Scope'],
          },
        },
        'strip-echo': { stripPrefix: { prefixes: ['/echo'] } },
      },
      services: {
        echo: { loadBalancer: { servers: [{ url: upstreamUrl }] } },
        auth: { loadBalancer: { servers: [{ url: upstreamUrl }] } },
      },
    },
  };
  edge = createEdge(routingTable(config));
  edgeUrl = await listen(edge);
});

afterAll(async () => {
  // drain() also closes the edge's upstream connection pool, whose keep-alive sockets would keep Jest alive.
  await edge.drain(0);
  for (const server of [upstream, verify]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

// undici's request, not fetch: fetch may not set Host (a forbidden header in the Fetch standard).
const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
  const response = await request(`${edgeUrl}${path}`, {
    method: method as 'GET',
    headers: { host: 'localhost', ...headers },
  });
  return { status: response.statusCode, header: (name: string) => response.headers[name], body: response.body };
};

describe('dev edge', () => {
  it("returns /verify's refusal as is, status, challenge and body", async () => {
    const response = await get('/echo/mcp', { origin: 'https://app.example' });
    expect(response.status).toBe(401);
    expect(response.header('www-authenticate')).toContain('resource_metadata=');
    expect(response.header('access-control-allow-origin')).toBe('*');
    expect(response.header('access-control-expose-headers')).toBe('Mcp-Session-Id,WWW-Authenticate');
    expect(await response.body.json()).toEqual({ error: 'invalid_token' });
  });

  it("forwards only the credential and Traefik's X-Forwarded-* to /verify", async () => {
    verifyCalls.length = 0;
    await (
      await get('/echo/mcp?x=1', { authorization: 'Bearer good', cookie: 'c=1', 'x-forwarded-host': 'evil' }, 'POST')
    ).body.dump();
    expect(verifyCalls[0]).toMatchObject({
      authorization: 'Bearer good',
      'x-forwarded-method': 'POST',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'localhost',
      'x-forwarded-uri': '/echo/mcp?x=1',
    });
    expect(verifyCalls[0]?.cookie).toBeUndefined();
  });

  it('on 2xx copies the identity headers, drops client-sent ones and strips the prefix', async () => {
    const response = await get('/echo/mcp?x=1', {
      authorization: 'Bearer good',
      'x-user-id': 'mallory',
      'x-user-email': 'm@evil',
    });
    expect(response.status).toBe(200);
    const seen = (await response.body.json()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/mcp?x=1');
    expect(seen.headers).toMatchObject({
      'x-user-id': 'u1',
      'x-user-name': 'alice',
      'x-scope': 'mcp',
      'x-forwarded-prefix': '/echo',
      host: 'localhost',
    });
    expect(seen.headers['x-user-email']).toBeUndefined();
  });

  it('answers CORS preflights itself, without auth', async () => {
    const response = await get(
      '/echo/mcp',
      { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(response.status).toBe(200);
    expect(response.header('access-control-allow-headers')).toBe('Authorization,Mcp-Session-Id');
    expect(response.header('access-control-max-age')).toBe('600');
  });

  it('routes by priority and ignores routers of other entry points', async () => {
    const response = await get('/register');
    expect(((await response.body.json()) as { url: string }).url).toBe('/register');
    expect((await get('/verify')).status).toBe(404);
    expect((await get('/', { host: 'elsewhere' })).status).toBe(404);
  });

  it('passes an SSE stream through unbuffered, with the CORS headers of the edge', async () => {
    const response = await get('/echo/mcp/stream', { authorization: 'Bearer good', origin: 'https://app.example' });
    expect(response.header('access-control-allow-origin')).toBe('*');
    // The first chunk arrives although the upstream never ends the response.
    const first = await new Promise<string>((resolve) =>
      response.body.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    expect(first).toBe('data: first\n\n');
    response.body.destroy();
  });

  it('closes the client connection when the upstream dies mid-stream', async () => {
    const response = await get('/echo/mcp/crash', { authorization: 'Bearer good' });
    const first = await new Promise<string>((resolve) =>
      response.body.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    expect(first).toBe('data: first\n\n');
    // The stream fails instead of staying open forever (with the old edge, this never settled).
    await expect(
      new Promise((resolve, reject) => {
        response.body.on('error', reject);
        response.body.on('end', resolve);
        response.body.resume();
      }),
    ).rejects.toThrow();
  });

  it('answers 502 when the service is down', async () => {
    const down = createEdge(
      routingTable({
        http: {
          routers: { r: { rule: 'PathPrefix(`/`)', service: 's' } },
          services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:1' }] } } },
        },
      }),
    );
    const url = await listen(down);
    const response = await fetch(url);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ error: 'bad_gateway', error_description: 'the service is unreachable' });
    await new Promise((resolve) => down.close(resolve));
  });
});

/** An edge in front of one upstream (and optionally a forwardAuth address), on a free port. */
async function edgeFor(
  upstreamUrl: string,
  authAddress?: string,
  options?: EdgeOptions,
): Promise<{ edge: Edge; url: string }> {
  const edge = createEdge(
    routingTable({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 's', ...(authAddress ? { middlewares: ['auth'] } : {}) } },
        middlewares: authAddress ? { auth: { forwardAuth: { address: authAddress } } } : {},
        services: { s: { loadBalancer: { servers: [{ url: upstreamUrl }] } } },
      },
    }),
    options,
  );
  return { edge, url: await listen(edge) };
}

describe('dev edge failures', () => {
  it("passes on the upstream's 413 for a body it refused before reading it", async () => {
    // The services' own server: Fastify answers a body over its limit at once, before reading it.
    const strict = Fastify({ bodyLimit: 1024 * 1024 });
    strict.post('/', () => 'ok');
    const { edge, url } = await edgeFor(await strict.listen({ port: 0, host: '127.0.0.1' }));
    const response = await fetch(url, {
      method: 'POST',
      body: Buffer.alloc(10 * 1024 * 1024),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    const small = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(await small.text()).toBe('ok');
    await edge.drain(1000);
    await strict.close();
  });

  it('answers 502 with a JSON error when the authorization server is unreachable', async () => {
    const quiet = createServer((_, res) => res.end());
    const { edge, url } = await edgeFor(await listen(quiet), 'http://127.0.0.1:1/verify');
    const response = await fetch(url);
    expect(response.status).toBe(502);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      error: 'bad_gateway',
      error_description: 'the authorization server is unreachable',
    });
    await edge.drain(1000);
    await new Promise((resolve) => quiet.close(resolve));
  });

  it('cancels its pending /verify when the client leaves, and reports no error', async () => {
    const errors: Error[] = [];
    let served = 0;
    const service = createServer((_, res) => res.end(`served ${++served}`));
    let received!: () => void;
    let cancelled!: () => void;
    const verifyReceived = new Promise<void>((resolve) => (received = resolve));
    const verifyCancelled = new Promise<void>((resolve) => (cancelled = resolve));
    const hanging = createServer((req) => {
      req.socket.on('close', cancelled);
      received(); // and never answers
    });
    const { edge, url } = await edgeFor(await listen(service), `${await listen(hanging)}/verify`, {
      onError: (error) => errors.push(error),
    });
    const client = new AbortController();
    const pending = fetch(url, { signal: client.signal }).catch((error: Error) => error.name);
    await verifyReceived;
    client.abort();
    expect(await pending).toBe('AbortError');
    await verifyCancelled; // the edge closed its request to the auth server (without it, this never resolves)
    await new Promise((resolve) => setTimeout(resolve, 50)); // room for a late error report
    expect(errors).toEqual([]);
    expect(served).toBe(0);
    await edge.drain(1000);
    hanging.closeAllConnections();
    for (const server of [service, hanging]) await new Promise((resolve) => server.close(resolve));
  });

  it('drains on stop: a request in flight completes, a stream that outlives the timeout is closed', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = createServer((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: open\n\n');
        return; // never ends
      }
      void released.then(() => res.end('finished'));
    });
    const { edge, url } = await edgeFor(await listen(slow));
    const stream = await request(`${url}/stream`);
    const inFlight = fetch(`${url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the request reaches the upstream
    const drained = edge.drain(2_000);
    await expect(fetch(url)).rejects.toThrow(); // no new connections
    release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('connection')).toBe('close');
    expect(await answer.text()).toBe('finished');
    await drained;
    await expect(stream.body.text()).rejects.toThrow(); // cut at the drain timeout
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
  });
});

describe('routingTable', () => {
  it('refuses dangling references at start-up', () => {
    expect(() => routingTable({ http: { routers: { r: { rule: 'Path(`/`)', service: 'missing' } } } })).toThrow(
      /service missing/,
    );
    expect(() =>
      routingTable({
        http: {
          routers: { r: { rule: 'Path(`/`)', service: 's', middlewares: ['nope'] } },
          services: { s: { loadBalancer: { servers: [{ url: 'http://x' }] } } },
        },
      }),
    ).toThrow(/middleware nope/);
  });
});
