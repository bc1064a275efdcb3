import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AppModule } from './app.module';

const textOf = (result: unknown): string => ((result as { content?: { text: string }[] }).content ?? [])[0]?.text ?? '';

describe('echo-stateful wiring', () => {
  let app: NestFastifyApplication;
  let url: URL;

  beforeAll(async () => {
    process.env['LOG_LEVEL'] ??= 'warn';
    app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = new URL(`${await app.getUrl()}/mcp`.replace('[::1]', '127.0.0.1'));
  });
  afterAll(async () => {
    await app?.close();
  });

  const modern = async (userId: string): Promise<ModernClient> => {
    const client = new ModernClient(
      { name: 'wiring-modern', version: '1' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new ModernTransport(url, { requestInit: { headers: { 'x-user-id': userId } } }));
    return client;
  };

  it('keeps a 2025 session: echo is remembered for replayLastEcho in that session only', async () => {
    const client = new Client({ name: 'wiring', version: '1' });
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { 'x-user-id': 'github:1' } } });
    await client.connect(transport);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'kept' } }))).toContain('kept');
    expect(textOf(await client.callTool({ name: 'replayLastEcho', arguments: {} }))).toContain('[REPLAY');
    expect(textOf(await client.callTool({ name: 'sessionInfo', arguments: {} }))).toContain(transport.sessionId);
    await transport.terminateSession();
    await client.close();
  });

  it('keeps 2026-07-28 state per user (no sessions): a new connection of the same user replays, another user not', async () => {
    const first = await modern('github:2');
    expect(first.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    await first.callTool({ name: 'echo', arguments: { message: 'per-user' } });
    await first.close();
    const again = await modern('github:2');
    expect(textOf(await again.callTool({ name: 'replayLastEcho', arguments: {} }))).toContain('per-user');
    await again.close();
    const other = await modern('github:3');
    expect(textOf(await other.callTool({ name: 'replayLastEcho', arguments: {} }))).toContain('No previous echo');
    await other.close();
  });
});
