// The original gateway's other wrapped servers through the edge (issue 22): time, fetch (mcp-fetch-server), playwright
// (@playwright/mcp with Debian's Chromium) and tmux, each called by the MCP SDK client after the OAuth flow. Pages are
// served on loopback under names the local DNS stub resolves: no packet leaves this machine.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type DnsStub, startDnsStub } from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { connectWithOAuth } from './support/oauth-client';

const SERVICES = ['time', 'fetch', 'playwright', 'tmux'];
/**
 * tmux's `shell` scope is granted to nobody by the catalog: the operator names alice and bob, and has it asked for at
 * the first sign-in (docs/authorization.md).
 */
const POLICY = {
  services: {
    tmux: {
      scopes: { shell: { description: 'Run commands in a terminal on the gateway host', initial: true } },
      grants: { shell: ['dev:alice', 'dev:bob'] },
    },
  },
};
const policyDir = mkdtempSync(join(tmpdir(), 'servers-e2e-'));
const textOf = (result: unknown) =>
  ((result as { content?: Array<{ type: string; text?: string }> }).content ?? [])
    .map((item) => item.text ?? '')
    .join('\n');

let gateway: RunningGateway;
let site: Server;
let sitePort: number;
let dns: DnsStub;
const hits: string[] = [];
const clients: Client[] = [];

const connectAs = async (service: string, username: string): Promise<Client> => {
  const { client } = await connectWithOAuth(gateway.mcpUrls.get(service) ?? '', username, []);
  clients.push(client);
  return client;
};

beforeAll(async () => {
  site = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><head><title>Loopback site</title></head><body><h1>Served at ${req.url}</h1></body></html>`);
  });
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  sitePort = (site.address() as AddressInfo).port;
  // public.test stands for a public site (allowed on this one port); internal.test for a service name (auth, redis).
  dns = await startDnsStub({ 'public.test': ['127.0.0.1'], 'internal.test': ['127.0.0.1'] });
  const policyFile = join(policyDir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  gateway = await startGateway({
    ...enableOnly(...SERVICES),
    MCP_POLICY_FILE: policyFile,
    EGRESS_DNS_SERVERS: dns.server,
    EGRESS_ALLOW: `public.test:${sitePort}`,
    // Two users' Chromiums exceed the stdio proxy's default memory budget.
    STDIO_MEMORY_BUDGET_MB: '4096',
  });
}, 200_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await gateway?.stop();
  await dns?.close();
  site?.close();
  rmSync(policyDir, { recursive: true, force: true });
});

it('npm start serves exactly the enabled services', () => {
  expect([...gateway.mcpUrls.keys()].sort()).toEqual([...SERVICES].sort());
});

describe('time', () => {
  it("answers get_current_time and convert_time with the official server's JSON", async () => {
    const client = await connectAs('time', 'alice');
    const now = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Asia/Tokyo' } });
    expect(JSON.parse(textOf(now))).toMatchObject({ timezone: 'Asia/Tokyo', is_dst: false });
    const converted = await client.callTool({
      name: 'convert_time',
      arguments: { source_timezone: 'UTC', time: '12:00', target_timezone: 'Asia/Kathmandu' },
    });
    expect(JSON.parse(textOf(converted))).toMatchObject({ time_difference: '+5.75h' });
  });
});

describe('fetch (mcp-fetch-server)', () => {
  it('fetches an allowed page through the egress proxy and is refused an internal name', async () => {
    const client = await connectAs('fetch', 'alice');
    const page = await client.callTool({
      name: 'fetch_markdown',
      arguments: { url: `http://public.test:${sitePort}/f` },
    });
    expect(textOf(page)).toContain('Served at /f');
    const before = hits.length;
    const refused = await client.callTool({
      name: 'fetch_html',
      arguments: { url: `http://internal.test:${sitePort}/internal` },
    });
    expect(refused.isError).toBe(true);
    expect(hits.length).toBe(before);
  });
});

describe('playwright (@playwright/mcp, Debian Chromium)', () => {
  it('opens an allowed page through the egress proxy, and a loopback target is refused', async () => {
    const client = await connectAs('playwright', 'alice');
    const opened = await client.callTool({
      name: 'browser_navigate',
      arguments: { url: `http://public.test:${sitePort}/browser` },
    });
    expect(textOf(opened)).toContain('Page Title: Loopback site');
    expect(hits).toContain('/browser');
    const before = hits.length;
    const refused = await client.callTool({
      name: 'browser_navigate',
      arguments: { url: `http://127.0.0.1:${sitePort}/loopback` },
    });
    expect(textOf(refused)).not.toContain('Loopback site');
    expect(hits.length).toBe(before);
  });
});

describe('tmux (a remote shell, per user)', () => {
  const screenOf = async (client: Client, expected: string): Promise<string> => {
    let screen = '';
    for (let attempt = 0; attempt < 50 && !screen.includes(expected); attempt++) {
      screen = textOf(await client.callTool({ name: 'capture_pane', arguments: { lines: 20 } }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return screen;
  };

  it("runs a command in Alice's own shell; Bob's shell is another one", async () => {
    const alice = await connectAs('tmux', 'alice');
    const bob = await connectAs('tmux', 'bob');
    await alice.callTool({ name: 'send_keys', arguments: { keys: 'echo "alice=$((40 + 2))"' } });
    expect(await screenOf(alice, 'alice=42')).toContain('alice=42');
    expect(textOf(await bob.callTool({ name: 'capture_pane', arguments: { lines: 100 } }))).not.toContain('alice=42');
  });

  it('gives carol, whom the policy does not name, no shell: her sign-in ends with access_denied', async () => {
    // The policy asks for tmux:shell at the first sign-in; auth refuses it to carol rather than loop (issue 18).
    await expect(connectAs('tmux', 'carol')).rejects.toThrow(
      /error=access_denied&error_description=you\+may\+not\+be\+granted\+tmux%3Ashell/,
    );
  });
});
