import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { registerMcpRoute } from '@gateway/mcp-session';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ChildCommand } from './child-command';
import { ModernBridge } from './modern-bridge';

const root = join(__dirname, '../../../..');
const everything: ChildCommand = {
  command: process.execPath,
  args: [join(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
  env: {},
  cwd: root,
  label: 'everything',
  egress: 'none',
  shareable: false,
};

/**
 * A 2025 stdio server whose tool writes its three progress notifications and its result in one write, so the
 * proxy reads them in one stdout chunk (the case where the relay lost the notifications read with the result).
 */
const chunked: ChildCommand = {
  command: process.execPath,
  args: [
    '-e',
    `
    const send = (...messages) => process.stdout.write(messages.map((m) => JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n').join(''));
    require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
      const { id, method, params } = JSON.parse(line);
      if (method === 'initialize') send({ id, result: { protocolVersion: params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'chunked', version: '1' } } });
      else if (method === 'tools/list') send({ id, result: { tools: [{ name: 'steps', inputSchema: { type: 'object' } }] } });
      else if (method === 'tools/call') {
        const progressToken = params._meta.progressToken;
        const progress = [1, 2, 3].map((step) => ({ method: 'notifications/progress', params: { progressToken, progress: step, total: 3 } }));
        send(...progress, { id, result: { content: [{ type: 'text', text: 'done' }] } });
      } else if (id !== undefined) send({ id, error: { code: -32601, message: 'Method not found' } });
    });
    `,
  ],
  env: {},
  cwd: root,
  label: 'chunked',
  egress: 'none',
  shareable: false,
};

describe('ModernBridge: MCP 2026-07-28 in front of a 2025 stdio server', () => {
  let app: FastifyInstance;
  let bridge: ModernBridge;
  let url: URL;

  beforeAll(async () => {
    bridge = new ModernBridge(everything.label, () => everything, new Logger('spec'), 60);
    app = Fastify();
    registerMcpRoute(app, {
      allowedOrigins: [],
      maxBodyBytes: 1024 * 1024,
      logger: new Logger('spec'),
      handle: (exchange) => bridge.handle(exchange),
    });
    url = new URL(`${await app.listen({ port: 0, host: '127.0.0.1' })}/mcp`);
  });
  afterAll(async () => {
    await bridge.close();
    await app.close();
  });

  const connect = async (userId: string): Promise<Client> => {
    const client = new Client({ name: 'spec', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { 'x-user-id': userId } } }));
    return client;
  };

  it('lists and calls the wrapped server tools for a pinned client, one child per user', async () => {
    const first = await connect('github:1');
    expect(first.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const { tools } = await first.listTools();
    expect(tools.map((tool) => tool.name)).toContain('echo');
    const result = await first.callTool({ name: 'echo', arguments: { message: 'through stdio' } });
    expect(JSON.stringify(result.content)).toContain('through stdio');
    expect(bridge.size).toBe(1);
    // The same user again: the same child (initialized once); another user: a child of their own.
    const again = await connect('github:1');
    await again.callTool({ name: 'echo', arguments: { message: 'again' } });
    expect(bridge.size).toBe(1);
    const other = await connect('github:2');
    await other.callTool({ name: 'echo', arguments: { message: 'other' } });
    expect(bridge.size).toBe(2);
    await Promise.all([first.close(), again.close(), other.close()]);
  });

  it('keeps concurrent requests of one user apart (ids rewritten towards the child, restored on the way back)', async () => {
    const clients = await Promise.all([connect('github:3'), connect('github:3')]);
    const messages = Array.from({ length: 10 }, (_, index) => `m${index}`);
    const results = await Promise.all(
      messages.map((message, index) =>
        (clients[index % 2] as Client).callTool({ name: 'echo', arguments: { message } }),
      ),
    );
    results.forEach((result, index) => expect(JSON.stringify(result.content)).toContain(`m${index}"`));
    await Promise.all(clients.map((client) => client.close()));
  });

  it('relays every progress notification the child sent before its result, even in the same stdout chunk', async () => {
    const chunkedBridge = new ModernBridge(chunked.label, () => chunked, new Logger('spec'), 60);
    const chunkedApp = Fastify();
    registerMcpRoute(chunkedApp, {
      allowedOrigins: [],
      maxBodyBytes: 1024 * 1024,
      logger: new Logger('spec'),
      handle: (exchange) => chunkedBridge.handle(exchange),
    });
    try {
      const chunkedUrl = new URL(`${await chunkedApp.listen({ port: 0, host: '127.0.0.1' })}/mcp`);
      const client = new Client(
        { name: 'spec', version: '1' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await client.connect(
        new StreamableHTTPClientTransport(chunkedUrl, { requestInit: { headers: { 'x-user-id': 'github:4' } } }),
      );
      const progress: number[] = [];
      const result = await client.callTool(
        { name: 'steps', arguments: {} },
        { onprogress: (notification) => progress.push(notification.progress) },
      );
      expect(JSON.stringify(result.content)).toContain('done');
      expect(progress).toEqual([1, 2, 3]);
      await client.close();
    } finally {
      await chunkedBridge.close();
      await chunkedApp.close();
    }
  });
});
