import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AppModule } from './app.module';

const textOf = (result: unknown): string => ((result as { content?: { text: string }[] }).content ?? [])[0]?.text ?? '';

describe('time wiring', () => {
  let app: NestFastifyApplication;
  let url: URL;

  beforeAll(async () => {
    process.env['LOG_LEVEL'] ??= 'warn';
    process.env['TIME_LOCAL_TIMEZONE'] = 'Europe/Paris';
    app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = new URL(`${await app.getUrl()}/mcp`.replace('[::1]', '127.0.0.1'));
  });
  afterAll(async () => {
    delete process.env['TIME_LOCAL_TIMEZONE'];
    await app?.close();
  });

  it("lists the official server's two tools, offering TIME_LOCAL_TIMEZONE as the local zone", async () => {
    const client = new Client({ name: 'wiring', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url));
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['convert_time', 'get_current_time']);
    const convert = tools.find((tool) => tool.name === 'convert_time');
    expect(convert?.inputSchema.required?.slice().sort()).toEqual(['source_timezone', 'target_timezone', 'time']);
    expect(JSON.stringify(convert?.inputSchema)).toContain("Use 'Europe/Paris' as local timezone");
    await client.close();
  });

  it('answers get_current_time with the JSON text and structured content, and an unknown zone as a tool error', async () => {
    const client = new Client({ name: 'wiring', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url));
    const result = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Kathmandu' } });
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
    expect(result.structuredContent).toMatchObject({ timezone: 'Asia/Kathmandu', is_dst: false });
    expect((result.structuredContent as { datetime: string }).datetime).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:45$/,
    );
    const refused = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Mars/Base' } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/^Invalid timezone/);
    await client.close();
  });

  it('serves convert_time to a client pinned to MCP 2026-07-28', async () => {
    const client = new ModernClient(
      { name: 'wiring-modern', version: '1' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new ModernTransport(url));
    const result = await client.callTool({
      name: 'convert_time',
      arguments: { source_timezone: 'UTC', time: '12:00', target_timezone: 'Asia/Kolkata' },
    });
    expect(result.structuredContent).toMatchObject({ time_difference: '+5.5h' });
    await client.close();
  });
});
