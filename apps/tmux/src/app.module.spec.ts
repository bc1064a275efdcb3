import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AppModule } from './app.module';

const textOf = (result: unknown): string => ((result as { content?: { text: string }[] }).content ?? [])[0]?.text ?? '';

describe('tmux wiring', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tmux-wiring-'));
  let app: NestFastifyApplication;
  let url: URL;
  const clients: Client[] = [];

  const connect = async (headers: Record<string, string>): Promise<Client> => {
    const client = new Client({ name: 'wiring', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
    clients.push(client);
    return client;
  };
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
    client.callTool({ name, arguments: args });

  beforeAll(async () => {
    process.env['LOG_LEVEL'] ??= 'warn';
    process.env['MCP_DATA_DIR'] = dataDir;
    app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = new URL(`${await app.getUrl()}/mcp`.replace('[::1]', '127.0.0.1'));
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await app?.close(); // ends every user's tmux server
    delete process.env['MCP_DATA_DIR'];
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs a command in the caller’s own shell and shows its output', async () => {
    const alice = await connect({ 'x-user-id': 'github:1' });
    const tools = (await alice.listTools()).tools.map((tool) => tool.name).sort();
    expect(tools).toEqual([
      'capture_pane',
      'create_window',
      'kill_window',
      'list_sessions',
      'list_windows',
      'send_keys',
    ]);
    expect(textOf(await call(alice, 'list_sessions'))).toMatch(/^main\t1 windows\tdetached$/);
    expect(textOf(await call(alice, 'send_keys', { keys: 'echo "sum=$((6 * 7))"' }))).toBe('sent');
    let screen = '';
    for (let attempt = 0; attempt < 50 && !screen.includes('sum=42'); attempt++) {
      screen = textOf(await call(alice, 'capture_pane', { lines: 10 }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(screen).toContain('sum=42');
  });

  it('creates, lists and kills a window', async () => {
    const alice = await connect({ 'x-user-id': 'github:1' });
    expect(textOf(await call(alice, 'create_window', { name: 'build' }))).toBe('main:1');
    expect(textOf(await call(alice, 'list_windows', { session: 'main' }))).toMatch(/^main:1\tbuild\t/m);
    expect(textOf(await call(alice, 'kill_window', { target: 'main:1' }))).toBe('killed');
    expect(textOf(await call(alice, 'list_windows'))).not.toContain('build');
  });

  it("never shows Bob Alice's shell", async () => {
    const bob = await connect({ 'x-user-id': 'github:2' });
    expect(textOf(await call(bob, 'capture_pane', { lines: 100 }))).not.toContain('sum=42');
  });

  it('refuses a caller without identity, and a target that is an option', async () => {
    const anonymous = await connect({});
    const refused = await call(anonymous, 'list_sessions');
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/signed-in user/);
    const alice = await connect({ 'x-user-id': 'github:1' });
    const option = await call(alice, 'kill_window', { target: '-a' });
    expect(option.isError).toBe(true);
  });
});
