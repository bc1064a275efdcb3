// The whole gateway, started the way `npm start` starts it, driven by real clients: the official MCP SDK
// client with an OAuthClientProvider, the MCP Inspector CLI, and Caddy's forward_auth in front of /verify.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, initializeRequest, postMcp, WORKSPACE_ROOT } from '@gateway/testing';
import { type RunningGateway, SERVICE_NAMES, startGateway } from './support/gateway';
import { connectWithOAuth } from './support/oauth-client';

const INSPECTOR = join(WORKSPACE_ROOT, 'node_modules/@modelcontextprotocol/inspector-cli/build/index.js');
const MESSAGE = 'hello through the gateway';

let gateway: RunningGateway;
let policyDir: string;
let page: Server;
let pageUrl: string;
const tokens = new Map<string, string>();

/**
 * A real tool call per service: the tool and arguments, and what its text must contain. server-memory keeps its
 * graph for the whole run and answers only the entities it newly created, so each test names its own `entity`.
 */
function callFor(
  service: string,
  tools: readonly string[],
  entity = 'gateway',
): { name: string; arguments: Record<string, unknown>; text: RegExp } {
  if (tools.includes('echo')) return { name: 'echo', arguments: { message: MESSAGE }, text: new RegExp(MESSAGE) };
  switch (service) {
    case 'fetchs':
      return { name: 'fetch', arguments: { url: `${pageUrl}/page` }, text: /Served to the gateway/ };
    case 'memory':
      return {
        name: 'create_entities',
        arguments: { entities: [{ name: entity, entityType: 'software', observations: ['runs MCP'] }] },
        text: new RegExp(entity),
      };
    case 'filesystem':
      return { name: 'list_allowed_directories', arguments: {}, text: /gateway-e2e-/ };
    case 'time':
      return { name: 'get_current_time', arguments: { timezone: 'Europe/Paris' }, text: /"timezone": "Europe\/Paris"/ };
    case 'sequential-thinking':
      return {
        name: 'sequentialthinking',
        arguments: { thought: 'one step', thoughtNumber: 1, totalThoughts: 1, nextThoughtNeeded: false },
        text: /thoughtNumber/,
      };
    default:
      throw new Error(`no known tool call for ${service}: ${tools.join(', ')}`);
  }
}

const textOf = (result: unknown) =>
  ((result as { content?: Array<{ type: string; text?: string }> }).content ?? [])
    .map((item) => item.text ?? '')
    .join('\n');

beforeAll(async () => {
  // A local page for fetchs (no test touches the internet); FETCH_ALLOW lets fetchs reach this loopback port.
  page = createServer((_req, res) =>
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<html><body><h1>Served to the gateway</h1><p>Local page.</p></body></html>'),
  );
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  // This suite drives every service with one authorization; step-up has its own (authorization.e2e-spec.ts),
  // so the write scopes are asked for first here.
  policyDir = mkdtempSync(join(tmpdir(), 'gateway-e2e-policy-'));
  const writesFirst = (read: string, write: string) => ({
    scopes: { read: { description: read, initial: true }, write: { description: write, initial: true } },
  });
  writeFileSync(
    join(policyDir, 'policy.json'),
    JSON.stringify({
      services: {
        memory: writesFirst('Read your knowledge graph', 'Change your knowledge graph'),
        filesystem: writesFirst('Read your files', 'Change your files'),
      },
    }),
  );
  gateway = await startGateway({
    FETCH_ALLOW: pageUrl.replace('http://', ''),
    FETCH_ROBOTS: 'false',
    MCP_POLICY_FILE: join(policyDir, 'policy.json'),
  });
}, 200_000);

afterAll(async () => {
  await gateway?.stop();
  await new Promise((resolve) => page?.close(resolve));
  if (policyDir) rmSync(policyDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints the MCP URL of every enabled service, under the public origin', () => {
    expect([...gateway.mcpUrls.keys()]).toEqual([...SERVICE_NAMES]);
    for (const [name, url] of gateway.mcpUrls) expect(url).toBe(`${gateway.url}/${name}/mcp`);
  });

  it("keeps auth's ForwardAuth endpoint and health probes off the edge", async () => {
    for (const path of ['/verify', '/healthz', '/readyz'])
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(404);
  });
});

describe('browser clients (the MCP Inspector runs in a page on another origin)', () => {
  const origin = 'http://localhost:6274';

  it.each(['/echo-stateless/mcp', '/register', '/token'])(
    'answers the CORS preflight of %s without a token',
    async (path) => {
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,mcp-protocol-version',
        },
      });
      expect(response.status).toBe(200);
      // auth's routes allow any origin; an MCP route names the page's origin, which its policy allows in development.
      expect(response.headers.get('access-control-allow-origin')).toBe(path.endsWith('/mcp') ? origin : '*');
      expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toEqual(
        expect.stringContaining('mcp-protocol-version'),
      );
    },
  );

  it("says in an MCP URL's preflight exactly what the service then does with the origin", async () => {
    const mcpUrl = gateway.mcpUrls.get('echo-stateless') ?? '';
    const { client, provider } = await connectWithOAuth(mcpUrl, 'cors', []);
    await client.close();
    const token = provider.tokens()?.access_token ?? '';
    // npm start is development: loopback origins pass (the Inspector's); any other needs MCP_ALLOWED_ORIGINS.
    for (const [page, allowed] of [
      [origin, true],
      ['https://app.example', false],
    ] as const) {
      const preflight = await fetch(mcpUrl, {
        method: 'OPTIONS',
        headers: { origin: page, 'access-control-request-method': 'POST' },
      });
      expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([
        200,
        allowed ? page : null,
      ]);
      const actual = await postMcp(mcpUrl, initializeRequest('2025-11-25'), {
        origin: page,
        authorization: `Bearer ${token}`,
      });
      expect(actual.status).toBe(allowed ? 200 : 403);
    }
  });

  it('lets the page read the challenge of a 401 and the discovery documents', async () => {
    const refused = await fetch(gateway.mcpUrls.get('echo-stateless') ?? '', {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-expose-headers')).toEqual(expect.stringContaining('WWW-Authenticate'));
    const metadata = await fetch(`${gateway.url}/.well-known/oauth-protected-resource/echo-stateless/mcp`, {
      headers: { origin },
    });
    expect(metadata.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe.each(SERVICE_NAMES)('%s through the dev edge with the MCP SDK client', (service) => {
  let client: Client | undefined;
  afterAll(async () => client?.close());

  it('401 → protected-resource metadata → AS metadata → DCR → authorize → token → tools/list → tools/call', async () => {
    const mcpUrl = gateway.mcpUrls.get(service) ?? '';
    const log: string[] = [];
    const connected = await connectWithOAuth(mcpUrl, 'alice', log);
    client = connected.client;
    const at = (pattern: RegExp) => log.findIndex((line) => pattern.test(line));
    const base = gateway.url.replace(/[.]/g, '\\.');
    const steps = [
      at(new RegExp(`^POST ${base}/${service}/mcp → 401$`)),
      at(new RegExp(`^GET ${base}/\\.well-known/oauth-protected-resource/${service}/mcp → 200$`)),
      // RFC 9728 → RFC 8414 §3.1: the service's own authorization server, `<issuer>/as/<service>` (docs/auth.md).
      at(new RegExp(`^GET ${base}/\\.well-known/oauth-authorization-server/as/${service} → 200$`)),
      at(new RegExp(`^POST ${base}/register → 201$`)),
      at(new RegExp(`^GET ${base}/as/${service}/authorize \\(browser\\)$`)),
      at(new RegExp(`^POST ${base}/as/${service}/token → 200$`)),
      log.findLastIndex((line) => new RegExp(`^POST ${base}/${service}/mcp → 200$`).test(line)),
    ];
    expect({ steps, log }).toEqual({ steps: [...steps].sort((a, b) => a - b), log });
    expect(steps.every((index) => index >= 0)).toBe(true);

    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    const call = callFor(service, tools);
    expect(tools).toContain(call.name);
    const result = await client.callTool({ name: call.name, arguments: call.arguments });
    expect(result.isError ?? false).toBe(false);
    expect(textOf(result)).toMatch(call.text);
    tokens.set(service, connected.provider.tokens()?.access_token ?? '');
  });
});

describe('the MCP Inspector CLI with the obtained token', () => {
  const inspector = (url: string, ...args: string[]) =>
    // cwd: inspector-cli 1.0.3 tests `existsSync('../package.json')` against the working directory but imports
    // it relative to its module; from its build directory both agree.
    promisify(execFile)(process.execPath, [INSPECTOR, url, '--transport', 'http', ...args], {
      timeout: 60_000,
      cwd: dirname(INSPECTOR),
    }).then(
      ({ stdout }) => ({ ok: true, stdout }),
      (error: { stdout?: string; stderr?: string }) => ({
        ok: false,
        stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );

  it('calls a tool through the edge', async () => {
    const service = 'echo-stateless';
    const url = gateway.mcpUrls.get(service) ?? '';
    const token = tokens.get(service);
    expect(token).toBeTruthy();
    const listed = await inspector(url, '--method', 'tools/list', '--header', `Authorization: Bearer ${token}`);
    expect(listed).toEqual({ ok: true, stdout: expect.stringContaining('"tools"') });
    const tools = (JSON.parse(listed.stdout) as { tools: Array<{ name: string }> }).tools.map((tool) => tool.name);
    const call = callFor(service, tools);
    const args = Object.entries(call.arguments).flatMap(([key, value]) => ['--tool-arg', `${key}=${String(value)}`]);
    const called = await inspector(
      url,
      '--method',
      'tools/call',
      '--tool-name',
      call.name,
      ...args,
      '--header',
      `Authorization: Bearer ${token}`,
    );
    expect(called).toEqual({ ok: true, stdout: expect.any(String) });
    expect(textOf(JSON.parse(called.stdout))).toMatch(call.text);
  });

  it('is refused without a token', async () => {
    const refused = await inspector(gateway.mcpUrls.get('echo-stateless') ?? '', '--method', 'tools/list');
    expect(refused).toEqual({ ok: false, stdout: expect.stringMatching(/401|Unauthorized|invalid_token/i) });
  });
});

describe('per-user data through the edge (docs/security.md, per-user data)', () => {
  const connectAs = async (service: string, username: string) =>
    (await connectWithOAuth(gateway.mcpUrls.get(service) ?? '', username, [])).client;

  it("memory: Bob's read_graph does not show Alice's entities", async () => {
    const alice = await connectAs('memory', 'alice');
    const bob = await connectAs('memory', 'bob');
    try {
      await alice.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'alice-private', entityType: 'note', observations: ['for alice only'] }] },
      });
      expect(textOf(await alice.callTool({ name: 'read_graph', arguments: {} }))).toContain('alice-private');
      expect(textOf(await bob.callTool({ name: 'read_graph', arguments: {} }))).not.toContain('alice-private');
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });

  it("filesystem: Bob can neither read nor overwrite Alice's file", async () => {
    const alice = await connectAs('filesystem', 'alice');
    const bob = await connectAs('filesystem', 'bob');
    try {
      const aliceDir = textOf(await alice.callTool({ name: 'list_allowed_directories', arguments: {} }))
        .split('\n')
        .find((line) => line.startsWith('/'));
      const file = `${aliceDir}/diary.txt`;
      await alice.callTool({ name: 'write_file', arguments: { path: file, content: 'dear diary' } });
      expect(textOf(await alice.callTool({ name: 'read_text_file', arguments: { path: file } }))).toBe('dear diary');
      expect(textOf(await bob.callTool({ name: 'list_allowed_directories', arguments: {} }))).not.toContain(aliceDir);
      expect((await bob.callTool({ name: 'read_text_file', arguments: { path: file } })).isError).toBe(true);
      const overwrite = await bob.callTool({ name: 'write_file', arguments: { path: file, content: 'bob' } });
      expect(overwrite.isError).toBe(true);
      expect(textOf(await alice.callTool({ name: 'read_text_file', arguments: { path: file } }))).toBe('dear diary');
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });
});

describe('the same ForwardAuth contract with Caddy (forward_auth) in front of auth /verify', () => {
  let caddy: ChildProcess | undefined;
  let caddyUrl = '';
  let configDir = '';

  beforeAll(async () => {
    const port = await freePort();
    caddyUrl = `http://127.0.0.1:${port}`;
    configDir = mkdtempSync(join(tmpdir(), 'gateway-caddy-'));
    const publicHost = new URL(gateway.url).host;
    const upstream = new URL(gateway.upstreams.get('echo-stateless') ?? '').host;
    // Caddy stands in for the public origin: it tells /verify (and the service) the public Host, as a TLS
    // front would. Directives in `route` run in the order written: auth first, then strip the prefix.
    writeFileSync(
      join(configDir, 'Caddyfile'),
      `{
  admin off
  auto_https off
}
${caddyUrl} {
  route /echo-stateless/* {
    # Client-sent identity headers go first: copy_headers sets only those /verify returns (docs/security.md).
    request_header -X-User-*
    request_header -X-Client-Id
    request_header -X-Scope*
    forward_auth ${new URL(gateway.authUrl).host} {
      uri /verify
      header_up X-Forwarded-Host ${publicHost}
      copy_headers X-User-Id X-User-Name X-User-Email X-Client-Id X-Scope X-Scope-Grantable
    }
    uri strip_prefix /echo-stateless
    reverse_proxy ${upstream} {
      header_up Host ${publicHost}
    }
  }
}
`,
    );
    caddy = spawn('caddy', ['run', '--config', join(configDir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      stdio: 'ignore',
      env: { ...process.env, HOME: configDir, XDG_DATA_HOME: configDir, XDG_CONFIG_HOME: configDir },
    });
    const deadline = Date.now() + 20_000;
    while (
      !(await fetch(`${caddyUrl}/echo-stateless/mcp`).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline || caddy.exitCode !== null) throw new Error('caddy did not start');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  afterAll(async () => {
    if (caddy && caddy.exitCode === null) {
      const exited = new Promise((resolve) => caddy?.once('exit', resolve));
      caddy.kill('SIGTERM');
      await exited;
    }
    rmSync(configDir, { recursive: true, force: true });
  });

  const post = (headers: Record<string, string>) =>
    fetch(`${caddyUrl}/echo-stateless/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });

  it("passes /verify's 401 and challenge through for a missing or bad token", async () => {
    const missing = await post({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain(
      `resource_metadata="${gateway.url}/.well-known/oauth-protected-resource/echo-stateless/mcp"`,
    );
    const bad = await post({ authorization: 'Bearer not-a-token' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('drops identity headers the client sent, including those /verify omits', async () => {
    const token = tokens.get('echo-stateless');
    const client = new Client({ name: 'gateway-e2e-caddy', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${caddyUrl}/echo-stateless/mcp`), {
        requestInit: {
          headers: {
            authorization: `Bearer ${token}`,
            'x-user-email': 'forged@attacker.example',
            'x-user-role': 'forged-admin',
            'x-user-id': 'forged-id',
          },
        },
      }),
    );
    try {
      const headers = textOf(await client.callTool({ name: 'printHeader', arguments: {} }));
      expect(headers).toMatch(/x-user-id/i); // the real identity, from /verify
      expect(headers).not.toMatch(/forged/);
    } finally {
      await client.close();
    }
  });

  it('lets the SDK client call a tool with the token from the OAuth flow', async () => {
    const token = tokens.get('echo-stateless');
    expect(token).toBeTruthy();
    const client = new Client({ name: 'gateway-e2e-caddy', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${caddyUrl}/echo-stateless/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      const call = callFor('echo-stateless', tools);
      expect(textOf(await client.callTool({ name: call.name, arguments: call.arguments }))).toMatch(call.text);
    } finally {
      await client.close();
    }
  });
});

describe.each(SERVICE_NAMES)('%s through the dev edge in both MCP eras (SDK v2 client)', (service) => {
  // basic/transports (2026-07-28): a pinned client speaks only that revision; `auto` probes with server/discover
  // and must land on it too; `legacy` is the 2025 handshake of the same client.
  it.each([
    ['pinned to 2026-07-28', { pin: '2026-07-28' }, '2026-07-28'],
    ['auto', 'auto', '2026-07-28'],
    ['legacy (2025)', 'legacy', '2025-11-25'],
  ] as const)('lists and calls tools, %s', async (label, mode, version) => {
    const token = tokens.get(service);
    expect(token).toBeTruthy();
    const client = new ClientV2({ name: 'gateway-e2e-v2', version: '1.0.0' }, { versionNegotiation: { mode } });
    await client.connect(
      new StreamableHTTPClientTransportV2(new URL(gateway.mcpUrls.get(service) ?? ''), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe(version);
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      const call = callFor(service, tools, `gateway-${label.split(' ')[0]}`);
      expect(tools).toContain(call.name);
      const result = await client.callTool({ name: call.name, arguments: call.arguments });
      expect(result.isError ?? false).toBe(false);
      expect(textOf(result)).toMatch(call.text);
    } finally {
      await client.close();
    }
  });
});

describe('the edge and MCP 2026-07-28 headers', () => {
  it('lets a browser page send Mcp-Method, Mcp-Name and traceparent, and read Retry-After', async () => {
    const response = await fetch(gateway.mcpUrls.get('echo-stateless') ?? '', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:6274',
        'access-control-request-method': 'POST',
        'access-control-request-headers':
          'authorization,content-type,mcp-protocol-version,mcp-method,mcp-name,traceparent',
      },
    });
    expect(response.status).toBe(200);
    const allowed = response.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
    for (const name of ['mcp-method', 'mcp-name', 'traceparent']) expect(allowed).toContain(name);
    const refused = await fetch(gateway.mcpUrls.get('echo-stateless') ?? '', {
      method: 'POST',
      headers: { origin: 'http://localhost:6274', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.headers.get('access-control-expose-headers')?.toLowerCase()).toEqual(
      expect.stringContaining('retry-after'),
    );
  });
});
