// docs/security.md, "Egress" and "Per-user data": what a wrapped server can reach, and whose data it sees.
// Every target is on loopback or a name the local DNS stub resolves to loopback: even a broken proxy sends no
// packet beyond this machine (private and link-local refusals are proven under a connect guard in libs/egress).
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  connectMcp,
  type DnsStub,
  runUntilExit,
  type ServiceProcess,
  startDnsStub,
  startService,
} from '@gateway/testing';

const ALICE = { 'x-user-id': 'github:1' };
const BOB = { 'x-user-id': 'github:2' };
const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio';
const RAW_CONNECT = join(__dirname, 'support/raw-connect-server.mjs');

interface ToolResult {
  isError?: boolean;
  content?: { type: string; text?: string; resource?: { blob?: string } }[];
}
const textOf = (result: ToolResult): string => (result.content ?? []).map((item) => item.text ?? '').join('\n');

describe('stdio-proxy egress: the gzip tool of server-everything cannot reach internal addresses', () => {
  let site: Server;
  let siteUrl: string;
  let sitePort: number;
  const hits: string[] = [];
  let dns: DnsStub;
  let internet: ServiceProcess;
  let none: ServiceProcess;

  beforeAll(async () => {
    site = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end(`internal secret at ${req.url}`);
    });
    site.listen(0, '127.0.0.1');
    await once(site, 'listening');
    sitePort = (site.address() as AddressInfo).port;
    siteUrl = `http://127.0.0.1:${sitePort}`;
    // auth.test plays a compose service name (auth:3000, redis:6379): it resolves to an internal address.
    dns = await startDnsStub({ 'auth.test': ['127.0.0.1'], 'allowed.test': ['127.0.0.1'] });
    [internet, none] = await Promise.all([
      // The catalog's everything: egress internet, through the in-process egress proxy.
      startService('stdio-proxy', {
        env: {
          MCP_SERVICE: 'everything',
          EGRESS_DNS_SERVERS: dns.server,
          EGRESS_ALLOW: `allowed.test:${sitePort}`,
        },
      }),
      // The same server declared egress none: a fresh network namespace.
      startService('stdio-proxy', {
        env: { STDIO_COMMAND: 'node', STDIO_ARGS: EVERYTHING, STDIO_EGRESS: 'none', STDIO_NETNS: 'required' },
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([internet?.stop(), none?.stop()]);
    await dns?.close();
    site?.close();
  });

  const gzip = async (proxy: ServiceProcess, data: string): Promise<ToolResult> => {
    const { client, transport } = await connectMcp(`${proxy.url}/mcp`, ALICE);
    try {
      return (await client.callTool({
        name: 'gzip-file-as-resource',
        arguments: { name: 'out.gz', data, outputType: 'resource' },
      })) as ToolResult;
    } finally {
      await transport.terminateSession(); // DELETE: frees the session (STDIO_MAX_CHILDREN_PER_USER)
      await client.close();
    }
  };
  const gunzipped = (result: ToolResult): string =>
    gunzipSync(Buffer.from(result.content?.[0]?.resource?.blob ?? '', 'base64')).toString();

  it('internet: reaches an allowed destination, through the egress proxy', async () => {
    const result = await gzip(internet, `http://allowed.test:${sitePort}/allowed`);
    expect(result.isError).toBeFalsy();
    expect(gunzipped(result)).toBe('internal secret at /allowed');
    expect(internet.output()).toMatch(/"msg":"egress".*"host":"allowed.test".*"status":200/);
  });

  it.each([
    ['loopback by address', () => `${siteUrl}/by-address`],
    ['localhost', () => `http://localhost:${sitePort}/by-name`],
    ['a service name resolving to an internal address', () => `http://auth.test:${sitePort}/service-name`],
    ['the gateway itself (the proxy serving this session)', () => `${internet.url}/healthz`],
    ['an allowed name on another port', () => `http://allowed.test:${internet.port}/healthz`],
  ])('internet: %s is an error, not content', async (_, url) => {
    const before = hits.length;
    const result = await gzip(internet, url());
    expect(result.isError).toBe(true);
    expect(result.content?.[0]?.resource).toBeUndefined();
    expect(hits.length).toBe(before);
  });

  it('internet: the refusals are in the egress audit log with their reason', () => {
    expect(internet.output()).toMatch(/"msg":"egress".*"host":"auth.test".*"status":403.*loopback address/);
  });

  it('internet: a server that ignores the proxy variables reaches the egress proxy and nothing else', async () => {
    const raw = await startService('stdio-proxy', {
      env: { STDIO_COMMAND: 'node', STDIO_ARGS: RAW_CONNECT, STDIO_EGRESS: 'internet' },
    });
    const { client, transport } = await connectMcp(`${raw.url}/mcp`, ALICE);
    try {
      const connectTo = async (host: string, port: number) =>
        textOf((await client.callTool({ name: 'connect', arguments: { host, port } })) as ToolResult);
      const before = hits.length;
      expect(await connectTo('127.0.0.1', sitePort)).toMatch(/^error (ECONNREFUSED|ENETUNREACH)$/);
      expect(await connectTo('127.0.0.1', raw.port)).toMatch(/^error (ECONNREFUSED|ENETUNREACH)$/);
      expect(hits.length).toBe(before);
      // The relay to the egress proxy is its only way out.
      expect(await connectTo('127.0.0.1', 3128)).toBe('connected');
      expect(raw.output()).toMatch(/egress: internet, each child in a fresh network namespace/);
    } finally {
      await transport.terminateSession();
      await client.close();
      await raw.stop();
    }
  });

  it('none: no network at all, not even loopback; data: URLs still work', async () => {
    for (const url of [`${siteUrl}/netns`, `${none.url}/healthz`, `http://allowed.test:${sitePort}/netns`]) {
      const result = await gzip(none, url);
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/fetch failed|ENETUNREACH|EAI_AGAIN|ENOTFOUND/);
    }
    expect(hits.filter((hit) => hit === '/netns')).toEqual([]);
    const local = await gzip(none, 'data:text/plain;base64,aGVsbG8=');
    expect(gunzipped(local)).toBe('hello');
    expect(none.output()).toMatch(/egress: none, each child in a fresh network namespace/);
  });

  it('STDIO_NETNS=required: no boot where no network namespace can be made', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-unshare-'));
    try {
      // No unshare on PATH stands for a platform without network namespaces.
      const { code, output } = await runUntilExit('stdio-proxy', {
        PATH: empty,
        STDIO_COMMAND: 'node',
        STDIO_ARGS: EVERYTHING,
        STDIO_NETNS: 'required',
      });
      expect(code).not.toBe(0);
      expect(output).toMatch(/STDIO_NETNS=required: cannot create a network namespace/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('stdio-proxy per-user data: memory and filesystem', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'isolation-data-'));
  const workspaceDir = mkdtempSync(join(tmpdir(), 'isolation-workspace-'));
  const proxies: ServiceProcess[] = [];
  const start = async (env: Record<string, string>): Promise<string> => {
    const proxy = await startService('stdio-proxy', {
      env: { MCP_DATA_DIR: dataDir, MCP_WORKSPACE_DIR: workspaceDir, ...env },
    });
    proxies.push(proxy);
    return `${proxy.url}/mcp`;
  };

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workspaceDir, { recursive: true, force: true });
  });

  it("memory: Bob's read_graph does not show Alice's entities", async () => {
    const url = await start({ MCP_SERVICE: 'memory' });
    const alice = await connectMcp(url, ALICE);
    await alice.client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'alice-secret', entityType: 'note', observations: ['only for alice'] }] },
    });
    expect(textOf((await alice.client.callTool({ name: 'read_graph', arguments: {} })) as ToolResult)).toContain(
      'alice-secret',
    );
    await alice.client.close();
    const bob = await connectMcp(url, BOB);
    expect(textOf((await bob.client.callTool({ name: 'read_graph', arguments: {} })) as ToolResult)).not.toContain(
      'alice-secret',
    );
    await bob.client.close();
  });

  it("filesystem: Bob can neither list, read nor edit Alice's files", async () => {
    const url = await start({ MCP_SERVICE: 'filesystem' });
    const alice = await connectMcp(url, ALICE);
    const [aliceDir] = textOf(
      (await alice.client.callTool({ name: 'list_allowed_directories', arguments: {} })) as ToolResult,
    )
      .split('\n')
      .filter((line) => line.startsWith('/'));
    const file = join(aliceDir ?? '', 'diary.txt');
    await alice.client.callTool({ name: 'write_file', arguments: { path: file, content: 'dear diary' } });
    expect(
      textOf((await alice.client.callTool({ name: 'read_text_file', arguments: { path: file } })) as ToolResult),
    ).toBe('dear diary');
    await alice.client.close();
    const bob = await connectMcp(url, BOB);
    const bobDirs = textOf(
      (await bob.client.callTool({ name: 'list_allowed_directories', arguments: {} })) as ToolResult,
    );
    expect(bobDirs).not.toContain(aliceDir);
    const read = (await bob.client.callTool({ name: 'read_text_file', arguments: { path: file } })) as ToolResult;
    expect(read.isError).toBe(true);
    const edit = (await bob.client.callTool({
      name: 'write_file',
      arguments: { path: file, content: 'bob was here' },
    })) as ToolResult;
    expect(edit.isError).toBe(true);
    await bob.client.close();
  });

  it('STDIO_DATA_SCOPE=shared: one memory for everyone, by explicit configuration only', async () => {
    const url = await start({ MCP_SERVICE: 'memory', STDIO_DATA_SCOPE: 'shared' });
    const alice = await connectMcp(url, ALICE);
    await alice.client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'team-note', entityType: 'note', observations: ['for the team'] }] },
    });
    await alice.client.close();
    const bob = await connectMcp(url, BOB);
    expect(textOf((await bob.client.callTool({ name: 'read_graph', arguments: {} })) as ToolResult)).toContain(
      'team-note',
    );
    await bob.client.close();
    expect(readFileSync(join(dataDir, 'memory.jsonl'), 'utf8')).toContain('team-note');
  });
});
