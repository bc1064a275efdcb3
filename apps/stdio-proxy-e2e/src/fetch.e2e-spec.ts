// docs/mcp-services.md "fetch", docs/security.md S40: the third-party fetcher (mcp-fetch-server) behind stdio-proxy
// reaches only what the egress proxy's address policy (fetchs' policy) allows. Every target is on loopback or a name
// the local DNS stub resolves to loopback: even a broken proxy sends no packet beyond this machine.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connectMcp,
  type DnsStub,
  type McpConnection,
  type ServiceProcess,
  startDnsStub,
  startService,
} from '@gateway/testing';

const ALICE = { 'x-user-id': 'github:1' };

interface ToolResult {
  isError?: boolean;
  content?: { type: string; text?: string }[];
}
const textOf = (result: ToolResult): string => (result.content ?? []).map((item) => item.text ?? '').join('\n');

describe('fetch (mcp-fetch-server) through the egress proxy', () => {
  let site: Server;
  let sitePort: number;
  const hits: string[] = [];
  let dns: DnsStub;
  let proxy: ServiceProcess;
  let connection: McpConnection;

  beforeAll(async () => {
    site = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://internal.test:${sitePort}/after-redirect` }).end();
        return;
      }
      res.setHeader('content-type', 'text/html');
      res.end(`<html><body><h1>Page</h1><p>content at ${req.url}</p></body></html>`);
    });
    site.listen(0, '127.0.0.1');
    await once(site, 'listening');
    sitePort = (site.address() as AddressInfo).port;
    // internal.test plays a compose service name (auth:3000, redis:6379); public.test a public site (allowed on this
    // one port only, as the stand-in for a public address: the site is on loopback).
    dns = await startDnsStub({ 'internal.test': ['127.0.0.1'], 'public.test': ['127.0.0.1'] });
    proxy = await startService('stdio-proxy', {
      env: { MCP_SERVICE: 'fetch', EGRESS_DNS_SERVERS: dns.server, EGRESS_ALLOW: `public.test:${sitePort}` },
    });
    connection = await connectMcp(`${proxy.url}/mcp`, ALICE);
  });

  afterAll(async () => {
    await connection?.client.close();
    await proxy?.stop();
    await dns?.close();
    site?.close();
  });

  const call = async (name: string, args: Record<string, unknown>): Promise<ToolResult> =>
    (await connection.client.callTool({ name, arguments: args })) as ToolResult;

  it("lists the package's tools", async () => {
    const names = (await connection.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['fetch_html', 'fetch_markdown', 'fetch_txt', 'fetch_json']));
  });

  it('fetches an allowed destination as Markdown, through the egress proxy', async () => {
    const result = await call('fetch_markdown', { url: `http://public.test:${sitePort}/allowed` });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('content at /allowed');
    expect(hits).toContain('/allowed');
    expect(proxy.output()).toMatch(/"msg":"egress".*"host":"public.test".*"status":200/);
  });

  it.each([
    ['loopback by address', () => `http://127.0.0.1:${sitePort}/by-address`],
    ['localhost', () => `http://localhost:${sitePort}/by-name`],
    ['a service name resolving to an internal address', () => `http://internal.test:${sitePort}/service-name`],
    [
      'the gateway itself (the proxy serving this session)',
      () => `${proxy.url.replace('127.0.0.1', 'internal.test')}/healthz`,
    ],
    ['an allowed name on another port', () => `http://public.test:${proxy.port}/healthz`],
    ['a redirect from an allowed site to an internal name', () => `http://public.test:${sitePort}/redirect`],
  ])('%s is an error, not content', async (_, url) => {
    const result = await call('fetch_html', { url: url() });
    expect(result.isError).toBe(true);
    expect(textOf(result)).not.toContain('content at');
    expect(hits.filter((hit) => hit !== '/redirect' && hit !== '/allowed')).toEqual([]);
  });

  it('checked the redirect target: the allowed site was asked, its redirect refused', () => {
    expect(hits).toContain('/redirect');
  });

  it("ignores the tool's own proxy argument: it cannot route around the egress proxy", async () => {
    const result = await call('fetch_html', {
      url: `http://internal.test:${sitePort}/via-own-proxy`,
      proxy: `http://127.0.0.1:${sitePort}`,
    });
    expect(result.isError).toBe(true);
    expect(hits).not.toContain(`http://internal.test:${sitePort}/via-own-proxy`);
    expect(hits).not.toContain('/via-own-proxy');
  });

  it('runs the server in a network namespace whose only way out is the egress proxy', () => {
    expect(proxy.output()).toMatch(/egress: internet, each child in a fresh network namespace/);
  });

  it('logs the refusals with their reason', () => {
    expect(proxy.output()).toMatch(/"msg":"egress".*"host":"internal.test".*"status":403.*loopback address/);
  });
});
