import { MemoryStore } from '@gateway/storage';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { McpEndpoint, type McpEndpointConfig, type McpServerContext } from './mcp-endpoint';
import { requestContextOf } from './request-context';

function buildServer(context: McpServerContext): McpServer {
  const server = new McpServer({ name: 'test', version: '1.0.0' });
  server.registerTool('whoami', { inputSchema: { note: z.string().optional() } }, async (_args, extra) => {
    const { identity } = requestContextOf(extra);
    return { content: [{ type: 'text', text: `${identity?.userId ?? 'anonymous'} ${context.session?.id ?? 'none'}` }] };
  });
  return server;
}

async function serve(
  config: Partial<McpEndpointConfig>,
): Promise<{ url: string; app: FastifyInstance; endpoint: McpEndpoint }> {
  const endpoint = new McpEndpoint({
    name: 'test',
    mode: 'stateless',
    server: buildServer,
    allowedOrigins: ['http://allowed.example'],
    maxBodyBytes: 4096,
    ...config,
  });
  const app = Fastify();
  endpoint.register(app);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${address}/mcp`, app, endpoint };
}

async function connect(
  url: string,
  userId?: string,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: userId ? { 'x-user-id': userId } : {} },
  });
  const client = new Client({ name: 'spec', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const post = (url: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2099-01-01', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('McpEndpoint, stateless', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => (server = await serve({})));
  afterAll(async () => {
    await server.endpoint.close();
    await server.app.close();
  });

  it('serves tools to the SDK client with the caller identity', async () => {
    const { client } = await connect(server.url, 'github:1');
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'github:1 none' }]);
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    await client.close();
  });

  it('answers an unknown protocol version with the latest supported one, as JSON when SSE is not accepted', async () => {
    const response = await post(server.url, initialize, { accept: 'application/json' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('mcp-session-id')).toBeNull();
    expect(((await response.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe(
      '2025-11-25',
    );
  });

  it('accepts browser origins on localhost (any port) only when told to, for development', async () => {
    const inspector = 'http://localhost:6274';
    expect((await post(server.url, initialize, { origin: inspector })).status).toBe(403);
    const development = await serve({ localhostOrigins: true });
    try {
      for (const origin of [inspector, 'http://127.0.0.1:5173', 'http://[::1]:3000'])
        expect((await post(development.url, initialize, { origin })).status).toBe(200);
      for (const origin of ['http://evil.example', 'http://localhost.evil.example', 'null'])
        expect((await post(development.url, initialize, { origin })).status).toBe(403);
    } finally {
      await development.app.close();
    }
  });

  it('refuses client mistakes with JSON-RPC errors and 4xx', async () => {
    const malformed = await post(server.url, '{"jsonrpc":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: -32700 } });
    expect((await post(server.url, initialize, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(server.url, initialize, { origin: 'http://allowed.example' })).status).toBe(200);
    expect((await post(server.url, initialize, { 'mcp-protocol-version': '1999-01-01' })).status).toBe(400);
    expect((await post(server.url, initialize, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(server.url, JSON.stringify({ pad: 'x'.repeat(5000) }))).status).toBe(413);
    const get = await fetch(server.url, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post(`${server.url}/`, initialize)).status).toBe(200);
  });

  it('accepts JSON-RPC batches only in protocol versions that have them', async () => {
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      { jsonrpc: '2.0', id: 'b', method: 'tools/list' },
    ]);
    const old = await post(server.url, batch, { 'mcp-protocol-version': '2025-03-26', accept: 'application/json' });
    expect(old.status).toBe(200);
    expect(((await old.json()) as { id: string }[]).map((response) => response.id).sort()).toEqual(['a', 'b']);
    const current = await post(server.url, batch, { 'mcp-protocol-version': '2025-06-18' });
    expect(current.status).toBe(400);
    expect(await current.json()).toMatchObject({ error: { code: -32600 } });
  });
});

describe('McpEndpoint, stateful', () => {
  const store = new MemoryStore('spec:');
  let first: Awaited<ReturnType<typeof serve>>;
  let second: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    first = await serve({ mode: 'stateful', store, idleSeconds: 60 });
    second = await serve({ mode: 'stateful', store, idleSeconds: 60 });
  });
  afterAll(async () => {
    for (const { endpoint, app } of [first, second]) {
      await endpoint.close();
      await app.close();
    }
  });

  it('keeps a session across replicas sharing the store, bound to its user, until DELETE', async () => {
    const { client, transport } = await connect(first.url, 'github:1');
    const sessionId = transport.sessionId as string;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', 'x-user-id': 'github:1' };
    const call = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'whoami', arguments: {} },
    });

    const onSecond = await post(second.url, call, { ...headers, accept: 'application/json' });
    expect(onSecond.status).toBe(200);
    expect(await onSecond.json()).toMatchObject({ result: { content: [{ text: `github:1 ${sessionId}` }] } });
    expect((await post(second.url, call, { ...headers, 'x-user-id': 'github:2' })).status).toBe(404);
    expect((await post(second.url, call, { 'x-user-id': 'github:1' })).status).toBe(400);

    await transport.terminateSession();
    expect((await post(second.url, call, headers)).status).toBe(404);
    expect((await post(first.url, call, headers)).status).toBe(404);
    await client.close();
  });

  it('expires an idle session: its next request gets 404', async () => {
    const short = await serve({ mode: 'stateful', store, idleSeconds: 1 });
    const { client, transport } = await connect(short.url, 'github:1');
    const headers = { 'mcp-session-id': transport.sessionId as string, 'x-user-id': 'github:1' };
    expect((await post(short.url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }), headers)).status).toBe(
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await post(short.url, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping' }), headers)).status).toBe(
      404,
    );
    await client.close();
    await short.endpoint.close();
    await short.app.close();
  });
});
