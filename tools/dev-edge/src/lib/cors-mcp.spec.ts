import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { createEdge, type Edge } from './edge';
import { loadDynamicConfig, routingTable } from './routing-table';

/**
 * The committed, generated Traefik configuration (tools/gateway-config) run by the dev edge: browsers may send
 * and read the MCP 2026-07-28 headers, and ForwardAuth passes `Mcp-Method`/`Mcp-Name` to `/verify`. The committed
 * path.yml is the development one, so an MCP route's CORS allows loopback origins (the Inspector's) and refuses
 * others, as the services do (docs/mcp-services.md).
 */
const INSPECTOR = 'http://localhost:6274';
const listen = (server: Server): Promise<string> =>
  new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

let edge: Edge;
let upstream: Server;
let verify: Server;
let edgeUrl: string;
const verifyCalls: IncomingMessage['headers'][] = [];

beforeAll(async () => {
  upstream = createServer((_req, res) =>
    res.writeHead(503, { 'retry-after': '2', 'content-type': 'application/json' }).end('{}'),
  );
  verify = createServer((req, res) => {
    verifyCalls.push(req.headers);
    res.writeHead(200, { 'x-user-id': 'github:1' }).end();
  });
  const upstreamUrl = await listen(upstream);
  const verifyUrl = await listen(verify);
  const config = loadDynamicConfig(join(__dirname, '../../../../deploy/traefik/dynamic/path.yml'));
  // Same routers and middlewares; only the addresses point at this test's stand-ins on loopback.
  for (const service of Object.values(config.http?.services ?? {}))
    service.loadBalancer.servers = [{ url: upstreamUrl }];
  for (const middleware of Object.values(config.http?.middlewares ?? {}))
    if ('forwardAuth' in middleware && middleware.forwardAuth) middleware.forwardAuth.address = `${verifyUrl}/verify`;
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

describe('dev edge with the generated configuration: MCP 2026-07-28 headers', () => {
  it('lets a browser send Mcp-Method, Mcp-Name and traceparent (preflight)', async () => {
    const response = await request(`${edgeUrl}/echo-stateless/mcp`, {
      method: 'OPTIONS',
      headers: {
        host: 'localhost',
        origin: INSPECTOR,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'mcp-method,mcp-name,traceparent,mcp-protocol-version',
      },
    });
    await response.body.dump();
    const allowed = String(response.headers['access-control-allow-headers']).toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['mcp-method', 'mcp-name', 'traceparent', 'mcp-protocol-version']));
  });

  it('exposes Retry-After and the MCP headers, and passes Mcp-Method/Mcp-Name to /verify', async () => {
    verifyCalls.length = 0;
    const response = await request(`${edgeUrl}/echo-stateless/mcp`, {
      method: 'POST',
      headers: {
        host: 'localhost',
        origin: INSPECTOR,
        authorization: 'Bearer t',
        'mcp-method': 'tools/call',
        'mcp-name': 'echo',
        'content-type': 'application/json',
      },
      body: '{}',
    });
    await response.body.dump();
    expect(response.statusCode).toBe(503);
    const exposed = String(response.headers['access-control-expose-headers']).toLowerCase().split(',');
    expect(exposed).toEqual(expect.arrayContaining(['retry-after', 'mcp-method', 'mcp-name', 'traceparent']));
    expect(verifyCalls[0]).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'echo', authorization: 'Bearer t' });
  });

  it("answers a refused origin's preflight itself, without Access-Control-Allow-Origin (Traefik's behaviour)", async () => {
    const preflight = (path: string) =>
      request(`${edgeUrl}${path}`, {
        method: 'OPTIONS',
        headers: { host: 'localhost', origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
    const refused = await preflight('/echo-stateless/mcp');
    await refused.body.dump();
    expect(refused.statusCode).toBe(200);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(refused.headers['access-control-allow-methods']).toBeDefined();
    // auth's routes (discovery, /token) stay open to any origin.
    const discovery = await preflight('/.well-known/oauth-protected-resource/echo-stateless/mcp');
    await discovery.body.dump();
    expect(discovery.headers['access-control-allow-origin']).toBe('*');
  });
});
