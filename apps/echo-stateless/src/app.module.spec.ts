import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AppModule } from './app.module';

const userHeaders = { 'x-user-id': 'github:5', 'x-user-name': 'Ada' };
const textOf = (result: unknown): string => ((result as { content?: { text: string }[] }).content ?? [])[0]?.text ?? '';

describe('echo-stateless wiring', () => {
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

  it('serves the echo tools statelessly to a 2025-era client, with the caller identity', async () => {
    const client = new Client({ name: 'wiring', version: '1' });
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: userHeaders } });
    await client.connect(transport);
    expect(transport.sessionId).toBeUndefined();
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'printHeader', 'authContext', 'whoIStheGOAT']));
    expect(names).not.toContain('sessionInfo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('hi');
    expect(textOf(await client.callTool({ name: 'whoIStheGOAT', arguments: {} }))).toContain('Ada');
    await client.close();
  });

  it('serves the same tools to a client pinned to MCP 2026-07-28', async () => {
    const client = new ModernClient(
      { name: 'wiring-modern', version: '1' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new ModernTransport(url, { requestInit: { headers: userHeaders } }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'modern' } }))).toBe('modern');
    expect(textOf(await client.callTool({ name: 'authContext', arguments: {} }))).toContain('github:5');
    await client.close();
  });

  it('has no server-to-client stream: GET gets 405', async () => {
    const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(405);
  });
});
