import { Logger } from '@nestjs/common';
import { MemoryStore } from '@gateway/storage';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/server';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { McpEndpoint, type McpEndpointConfig, type McpServerContext } from './mcp-endpoint';
import { requestContextOf } from './request-context';

/** Resolves the `hang` tool's pending calls (a tool that answers only when the test says so). */
const hanging: (() => void)[] = [];

function buildServer(context: McpServerContext): McpServer {
  const server = new McpServer({ name: 'test', version: '1.0.0' });
  server.registerTool('whoami', { inputSchema: z.object({ note: z.string().optional() }) }, async (_args, ctx) => {
    const { identity } = requestContextOf(ctx);
    return { content: [{ type: 'text', text: `${identity?.userId ?? 'anonymous'} ${context.session?.id ?? 'none'}` }] };
  });
  server.registerTool('hang', { description: 'Answers when released (or never).' }, async (ctx) => {
    await new Promise<void>((resolve) => {
      hanging.push(resolve);
      ctx.mcpReq.signal.addEventListener('abort', () => resolve());
    });
    return { content: [{ type: 'text', text: 'released' }] };
  });
  return server;
}

async function connectModern(url: string, userId?: string): Promise<ModernClient> {
  const transport = new ModernTransport(new URL(url), {
    requestInit: { headers: userId ? { 'x-user-id': userId } : {} },
  });
  const client = new ModernClient(
    { name: 'spec-modern', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(transport);
  return client;
}

/** Reads an SSE response until `until` matches the text so far (or the stream ends). */
async function readStream(response: Response, until: (text: string) => boolean): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
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

  it('writes one access line per request, with the MCP method and caller and without any header', async () => {
    const lines: unknown[] = [];
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation((line: unknown) => void lines.push(line));
    try {
      const headers = { 'x-user-id': 'github:7', authorization: 'Bearer secret-token' };
      expect((await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), headers)).status).toBe(
        200,
      );
      expect((await post(`${server.url}/`, initialize, { ...headers, 'content-type': 'text/plain' })).status).toBe(415);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the line is written when the response closes
    } finally {
      log.mockRestore();
    }
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        method: 'POST',
        url: '/mcp',
        statusCode: 200,
        mcp: { era: 'legacy', method: 'ping', user: 'github:7' },
      }),
      expect.objectContaining({ msg: 'request completed', url: '/mcp/', statusCode: 415, mcp: {} }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-token');
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

describe('McpEndpoint, MCP 2026-07-28', () => {
  const store = new MemoryStore('modern:');
  let stateless: Awaited<ReturnType<typeof serve>>;
  let stateful: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    stateless = await serve({});
    stateful = await serve({ mode: 'stateful', store, idleSeconds: 60 });
  });
  afterAll(async () => {
    for (const { endpoint, app } of [stateless, stateful]) {
      await endpoint.close();
      await app.close();
    }
  });

  it('serves a client pinned to 2026-07-28 with the caller identity, in both modes', async () => {
    for (const target of [stateless, stateful]) {
      const client = await connectModern(target.url, 'github:7');
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['whoami', 'hang']));
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      const [content] = result.content as { text: string }[];
      // Stateful without sessions: the state is the caller's own (one per user), stateless has none.
      expect(content?.text).toMatch(target === stateless ? /^github:7 none$/ : /^github:7 user-[0-9a-f]{32}$/);
      await client.close();
    }
  });

  it('keeps per-user state apart between users', async () => {
    const texts = await Promise.all(
      ['github:1', 'github:2'].map(async (userId) => {
        const client = await connectModern(stateful.url, userId);
        const result = await client.callTool({ name: 'whoami', arguments: {} });
        await client.close();
        return (result.content as { text: string }[])[0]?.text.split(' ')[1];
      }),
    );
    expect(texts[0]).not.toBe(texts[1]);
  });

  it('answers GET and DELETE with 405 and a header/body mismatch with 400 and -32020', async () => {
    const headers = { 'mcp-protocol-version': '2026-07-28', accept: 'text/event-stream' };
    for (const target of [stateless, stateful]) {
      for (const method of ['GET', 'DELETE']) {
        const response = await fetch(target.url, { method, headers });
        expect(response.status).toBe(405);
        expect(response.headers.get('allow')).toBe('POST');
      }
    }
    const call = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'whoami',
        arguments: {},
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    };
    const mismatch = await post(stateless.url, JSON.stringify(call), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/list',
      'mcp-name': 'whoami',
    });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toMatchObject({ error: { code: -32020 } });
    const matching = await post(stateless.url, JSON.stringify(call), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'whoami',
    });
    expect(matching.status).toBe(200);
  });
});

describe('McpEndpoint, bounded exchanges', () => {
  const store = new MemoryStore('guard:');
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => (server = await serve({ mode: 'stateful', store, idleSeconds: 60, requestTimeoutMs: 1_000 })));
  afterAll(async () => {
    hanging.splice(0).forEach((release) => release());
    await server.endpoint.close();
    await server.app.close();
  });

  const hang = (id: number): string =>
    JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'hang', arguments: {} } });

  it('refuses a request id reused while the first request is in flight, on its own stream', async () => {
    const { client, transport } = await connect(server.url, 'github:1');
    const headers = {
      'mcp-session-id': transport.sessionId as string,
      'mcp-protocol-version': '2025-11-25',
      'x-user-id': 'github:1',
    };
    const first = await post(server.url, hang(42), headers);
    expect(first.headers.get('content-type')).toContain('text/event-stream');
    const second = await post(server.url, hang(42), headers);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ id: 42, error: { code: -32600 } });
    hanging.splice(0).forEach((release) => release());
    const firstText = await readStream(first, (text) => text.includes('"id":42'));
    expect(firstText).toContain('released');
    await client.close();
  });

  it('ends a POST that outlives the server-side timeout with a JSON-RPC error', async () => {
    const { client, transport } = await connect(server.url, 'github:1');
    const headers = {
      'mcp-session-id': transport.sessionId as string,
      'mcp-protocol-version': '2025-11-25',
      'x-user-id': 'github:1',
    };
    const streamed = await post(server.url, hang(7), headers);
    const text = await readStream(streamed, (so) => so.includes('"id":7'));
    expect(text).toMatch(/"id":7,"error":\{"code":-32603,"message":"Request timed out/);
    const json = await post(server.url, hang(8), { ...headers, accept: 'application/json' });
    expect(await json.json()).toMatchObject({ id: 8, error: { code: -32603 } });
    // The id is free again once its request ended.
    const again = await post(server.url, hang(7), { ...headers, accept: 'application/json' });
    expect(await again.json()).toMatchObject({ id: 7, error: { code: -32603 } });
    await client.close();
  });

  it('answers a stateless or modern request that outlives the timeout with a JSON-RPC error', async () => {
    const bare = await serve({ requestTimeoutMs: 1_000 });
    const response = await post(bare.url, hang(9), { accept: 'application/json' });
    expect(await response.json()).toMatchObject({ id: 9, error: { code: -32603 } });
    const client = await connectModern(bare.url);
    await expect(client.callTool({ name: 'hang', arguments: {} })).rejects.toThrow(/timed out/);
    await client.close();
    await bare.endpoint.close();
    await bare.app.close();
  });

  it('sends SSE comment keepalives on open streams, with X-Accel-Buffering: no', async () => {
    const quick = await serve({ mode: 'stateful', store, idleSeconds: 60, keepAliveMs: 200 });
    const opened = await post(quick.url, initialize, { 'x-user-id': 'github:1', accept: 'application/json' });
    const headers = {
      'mcp-session-id': opened.headers.get('mcp-session-id') as string,
      'mcp-protocol-version': '2025-11-25',
      'x-user-id': 'github:1',
    };
    await opened.json();
    await post(quick.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    const get = await fetch(quick.url, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('x-accel-buffering')).toBe('no');
    expect(await readStream(get, (text) => text.includes(': keepalive'))).toContain(': keepalive');
    const call = await post(quick.url, hang(11), headers);
    expect(call.headers.get('x-accel-buffering')).toBe('no');
    expect(await readStream(call, (text) => text.includes(': keepalive'))).toContain(': keepalive');
    hanging.splice(0).forEach((release) => release());
    await quick.endpoint.close();
    await quick.app.close();
  });

  it('answers initialize during a storage outage with 503 and a generic JSON-RPC error, no internals', async () => {
    const broken = new MemoryStore('broken:');
    broken.setJson = () => Promise.reject(new Error('MaxRetriesPerRequestError: Reached the max retries per request'));
    const down = await serve({ mode: 'stateful', store: broken, idleSeconds: 60 });
    const response = await post(down.url, initialize);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ id: 1, error: { code: -32603 } });
    expect(body).not.toContain('MaxRetries');
    await down.endpoint.close();
    await down.app.close();
  });
});
