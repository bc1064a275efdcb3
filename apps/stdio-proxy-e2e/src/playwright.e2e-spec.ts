// docs/mcp-services.md "playwright", docs/security.md S41, S43: @playwright/mcp behind stdio-proxy drives Debian's
// Chromium through the egress proxy only, with a profile per user. Every target is on loopback or a name the local
// DNS stub resolves to loopback: even a broken proxy sends no packet beyond this machine.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectMcp,
  type DnsStub,
  type McpConnection,
  postMcp,
  type ServiceProcess,
  startDnsStub,
  startService,
} from '@gateway/testing';

const ALICE = { 'x-user-id': 'github:1' };
const BOB = { 'x-user-id': 'github:2' };
/** A user's own directory: the SHA-256 of the user id (docs/security.md, per-user data). */
const userDirectoryName = (id: string) => createHash('sha256').update(id).digest('hex');

interface ToolResult {
  isError?: boolean;
  content?: { type: string; text?: string }[];
}
/** The `--user-data-dir` of every running Chromium process under `dataDir` (from /proc: whatever its namespaces). */
function browserProfiles(dataDir: string): Set<string> {
  const profiles = new Set<string>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // ended meanwhile
    }
    const profile = argv.find((arg) => arg.startsWith(`--user-data-dir=${dataDir}/`));
    if (profile) profiles.add(profile.slice('--user-data-dir='.length));
  }
  return profiles;
}

const textOf = (result: ToolResult): string => (result.content ?? []).map((item) => item.text ?? '').join('\n');

describe('playwright (@playwright/mcp) through the egress proxy', () => {
  let site: Server;
  let sitePort: number;
  const hits: string[] = [];
  let dns: DnsStub;
  let proxy: ServiceProcess;
  let alice: McpConnection;
  const dataDir = mkdtempSync(join(tmpdir(), 'playwright-data-'));

  beforeAll(async () => {
    site = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.setHeader('content-type', 'text/html');
      res.end(`<html><head><title>Loopback page</title></head><body><h1>Hello from ${req.url}</h1></body></html>`);
    });
    site.listen(0, '127.0.0.1');
    await once(site, 'listening');
    sitePort = (site.address() as AddressInfo).port;
    // public.test stands for a public site (allowed on this one port); internal.test for a compose service name.
    dns = await startDnsStub({ 'internal.test': ['127.0.0.1'], 'public.test': ['127.0.0.1'] });
    proxy = await startService('stdio-proxy', {
      env: {
        MCP_SERVICE: 'playwright',
        MCP_DATA_DIR: dataDir,
        EGRESS_DNS_SERVERS: dns.server,
        EGRESS_ALLOW: `public.test:${sitePort}`,
        // A Chromium is a few hundred MiB: two users' browsers exceed the default budget of 1024.
        STDIO_MEMORY_BUDGET_MB: '4096',
      },
    });
    alice = await connectMcp(`${proxy.url}/mcp`, ALICE);
  }, 60_000);

  afterAll(async () => {
    await alice?.client.close();
    await proxy?.stop();
    await dns?.close();
    site?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const navigate = async (connection: McpConnection, url: string): Promise<ToolResult> =>
    (await connection.client.callTool({ name: 'browser_navigate', arguments: { url } })) as ToolResult;
  /** The text of the page the browser shows now. */
  const pageText = async (connection: McpConnection): Promise<string> =>
    textOf(
      (await connection.client.callTool({
        name: 'browser_evaluate',
        arguments: { function: '() => document.body.innerText' },
      })) as ToolResult,
    );

  it('opens a page served on loopback through the guarded path (the egress proxy allows it)', async () => {
    const result = await navigate(alice, `http://public.test:${sitePort}/welcome`);
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('Page Title: Loopback page');
    expect(await pageText(alice)).toContain('Hello from /welcome');
    expect(hits).toContain('/welcome');
    expect(proxy.output()).toMatch(/"msg":"egress".*"host":"public.test".*"status":200/);
  });

  it.each([
    ['loopback by address', () => `http://127.0.0.1:${sitePort}/by-address`],
    ['localhost', () => `http://localhost:${sitePort}/by-name`],
    ['a service name resolving to an internal address', () => `http://internal.test:${sitePort}/service-name`],
    ['the gateway itself (the proxy serving this session)', () => `http://127.0.0.1:${proxy.port}/healthz`],
    ['an allowed name on another port', () => `http://public.test:${proxy.port}/healthz`],
  ])('%s: refused, the target never sees the request', async (_, url) => {
    const before = hits.length;
    const result = await navigate(alice, url());
    expect(textOf(result)).not.toContain('Loopback page');
    expect(await pageText(alice)).not.toMatch(/Hello from|"status":"ok"/);
    expect(hits.length).toBe(before);
  });

  it('logs the refusals with their reason', () => {
    expect(proxy.output()).toMatch(/"msg":"egress".*"host":"internal.test".*"status":403.*loopback address/);
    expect(proxy.output()).toMatch(/egress: internet, each child in a fresh network namespace/);
  });

  it("gives a user's 2025 session and 2026-07-28 requests a browser each (no shared, locked profile)", async () => {
    // Alice's 2025 child has its browser open: her 2026-07-28 child needs a second one.
    expect(textOf(await navigate(alice, `http://public.test:${sitePort}/classic`))).toContain('Loopback page');
    const call = (name: string, args: Record<string, unknown>) =>
      postMcp(
        `${proxy.url}/mcp`,
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name,
            arguments: args,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'raw-e2e', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        },
        {
          ...ALICE,
          accept: 'application/json',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': name,
        },
      );
    const response = await call('browser_navigate', { url: `http://public.test:${sitePort}/modern` });
    expect(response.status).toBe(200);
    const { result } = (await response.json()) as { result: ToolResult };
    expect(textOf(result)).toContain('Page Title: Loopback page');
    expect(result.isError).toBeFalsy();
    // Both browsers run at once, each on its own profile (a shared one is locked by Chromium, or, across the
    // children's PID namespaces, silently used twice); the 2025 one still shows its own page.
    expect(await pageText(alice)).toContain('Hello from /classic');
    const own = join(dataDir, 'users', userDirectoryName(ALICE['x-user-id']), 'children');
    const profiles = [...browserProfiles(dataDir)];
    expect(profiles).toHaveLength(2);
    for (const profile of profiles) expect(profile).toMatch(new RegExp(`^${own}/[0-9a-f-]{36}/profile$`));
  }, 60_000);

  it("keeps a browser profile per user: Bob's browser is not Alice's", async () => {
    const bob = await connectMcp(`${proxy.url}/mcp`, BOB);
    try {
      await navigate(bob, `http://public.test:${sitePort}/bob`);
      expect(await pageText(bob)).toContain('Hello from /bob');
      const children = (user: string) => join(dataDir, 'users', userDirectoryName(user), 'children');
      const profiles = [...browserProfiles(dataDir)];
      expect(profiles.filter((profile) => profile.startsWith(children('github:1')))).toHaveLength(2);
      expect(profiles.filter((profile) => profile.startsWith(children('github:2')))).toHaveLength(1);
    } finally {
      await bob.transport.terminateSession(); // DELETE: the session, and with it Bob's only child, ends
      await bob.client.close();
    }
  });

  it("removes each child's profile when the child exits", async () => {
    const children = join(dataDir, 'users', userDirectoryName(BOB['x-user-id']), 'children');
    // Bob's session ended (DELETE above): his only child with it, and its directory.
    const deadline = Date.now() + 15_000;
    while (readdirSync(children).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(children)).toEqual([]);
    expect(await proxy.stop()).toBe(0);
    for (const user of [ALICE, BOB])
      expect(readdirSync(join(dataDir, 'users', userDirectoryName(user['x-user-id']), 'children'))).toEqual([]);
    expect(browserProfiles(dataDir).size).toBe(0);
  }, 30_000);
});
