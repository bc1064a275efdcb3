#!/usr/bin/env node
// Fuzzing (not a test): malformed bodies, headers, sizes and JSON-RPC ids against a gateway this script starts
// on loopback (tools/scripts/start.mjs --no-build: auth, the dev edge, echo-stateless, echo-stateful and
// everything, memory storage, free ports). OAuth endpoints are hit through the edge; the MCP services both
// through the edge (no token: /verify's refusals) and directly on their loopback ports with the identity header
// the edge would add (so the MCP parsing itself is reached). Every request has a 10 s deadline.
// Verdict: a hang is a request without an answer within the deadline; a failure is any 5xx except a 503 (the
// deliberate "busy / storage down" answer). Exit code 1 on any hang or failure.
// Usage: node bench/fuzz/run.mjs [--requests 2000] [--seconds 120] [--concurrency 8] [--seed 1]
//   (build first: npx nx run-many -t build). Packets go to 127.0.0.1 only.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return Number(index >= 0 ? args[index + 1] : fallback);
};
const total = option('requests', 2000);
const seconds = option('seconds', 120);
const concurrency = option('concurrency', 8);
let seed = option('seed', 1) >>> 0 || 1;

// xorshift32: the same seed gives the same requests.
const random = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x100000000;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const integer = (max) => Math.floor(random() * max);

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

// --- the gateway ---------------------------------------------------------------------------------------------
const edgePort = await freePort();
const upstream = {
  auth: `http://127.0.0.1:${await freePort()}`,
  'echo-stateless': `http://127.0.0.1:${await freePort()}`,
  'echo-stateful': `http://127.0.0.1:${await freePort()}`,
  everything: `http://127.0.0.1:${await freePort()}`,
};
const dataDir = mkdtempSync(join(tmpdir(), 'fuzz-'));
const edge = `http://127.0.0.1:${edgePort}`;
const gateway = spawn(process.execPath, [join(root, 'tools/scripts/start.mjs'), '--no-build'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dataDir,
    NODE_ENV: 'development',
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    HOST: '127.0.0.1',
    REDIS_URL: '',
    PUBLIC_URL: edge,
    AUTH_UPSTREAM: upstream.auth,
    MCP_DATA_DIR: join(dataDir, 'data'),
    MCP_WORKSPACE_DIR: dataDir,
    MCP_FETCHS_ENABLED: 'false',
    MCP_MEMORY_ENABLED: 'false',
    MCP_FILESYSTEM_ENABLED: 'false',
    MCP_SEQUENTIAL_THINKING_ENABLED: 'false',
    MCP_ECHO_STATELESS_UPSTREAM: upstream['echo-stateless'],
    MCP_ECHO_STATEFUL_UPSTREAM: upstream['echo-stateful'],
    MCP_EVERYTHING_UPSTREAM: upstream.everything,
    STDIO_MAX_CHILDREN: '8',
  },
});
let output = '';
gateway.stdout.on('data', (chunk) => (output += chunk));
gateway.stderr.on('data', (chunk) => (output += chunk));
const stopGateway = () =>
  new Promise((resolve) => {
    if (gateway.exitCode !== null) return resolve();
    const timer = setTimeout(() => gateway.kill('SIGKILL'), 20_000);
    gateway.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    gateway.kill('SIGINT');
  });
process.on('exit', () => {
  gateway.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});
const started = Date.now();
while (!/^Ctrl-C stops everything/m.test(output)) {
  if (gateway.exitCode !== null || Date.now() - started > 170_000) {
    console.error(`the gateway did not start:\n${output.slice(-3000)}`);
    process.exit(2);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}

// --- the requests ----------------------------------------------------------------------------------------------
const junkJson = () =>
  pick([
    '',
    '{',
    '{"jsonrpc":"2.0",',
    'null',
    '[]',
    '[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]',
    '['.repeat(5000) + ']'.repeat(5000),
    '"just a string"',
    '12345678901234567890123456789',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '\u0000\u0001\u0002',
    '{"a":"\uD800"}',
    Buffer.from(Array.from({ length: 64 }, () => integer(256))).toString('latin1'),
  ]);
const ids = [0, -1, 1.5, 2 ** 53 + 1, 'x'.repeat(10_000), '', null, true, {}, [], 'dup', 'dup'];
const methods = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/read',
  'nope',
  '',
  5,
  null,
  'notifications/initialized',
  'notifications/cancelled',
];
const message = () => {
  const base = { jsonrpc: pick(['2.0', '1.0', 2, undefined]), id: pick(ids), method: pick(methods) };
  const params = pick([
    undefined,
    null,
    'x',
    [],
    {
      protocolVersion: pick(['2025-11-25', '1999-01-01', 5]),
      capabilities: pick([{}, null, 'x']),
      clientInfo: pick([{ name: 'f', version: '1' }, null]),
    },
    {
      name: pick(['echo', 'trigger-long-running-operation', 'get-sum', 'x'.repeat(5000)]),
      arguments: pick([{}, { message: 'x' }, { a: 'b', b: 1 }, null, { duration: 0.1, steps: 1 }]),
    },
    { _meta: { progressToken: pick(ids) } },
    { requestId: pick(ids) },
    { uri: pick(['file:///etc/passwd', 'demo://resource/static/document/1', '']) },
  ]);
  return params === undefined ? base : { ...base, params };
};
const mcpBody = () =>
  pick([
    () => junkJson(),
    () => JSON.stringify(message()),
    () => JSON.stringify(Array.from({ length: integer(50) }, message)),
    () => JSON.stringify({ ...message(), padding: 'x'.repeat(pick([1000, 900_000, 1_100_000, 3_000_000])) }),
  ])();
const headerSets = () =>
  pick([
    {},
    { 'content-type': 'application/json' },
    {
      'content-type': pick([
        'text/plain',
        'application/json; charset=utf-16',
        'application/jsonx',
        'multipart/form-data; boundary=x',
        '',
      ]),
    },
    {
      accept: pick([
        'text/html',
        '*/*',
        'application/json',
        'text/event-stream',
        '',
        'application/json, text/event-stream',
      ]),
    },
    { 'mcp-protocol-version': pick(['2025-11-25', '2025-03-26', '2024-11-05', 'x', '9999-99-99', '2025-06-18']) },
    { 'mcp-session-id': pick(['', 'x', 'not-a-uuid', '00000000-0000-0000-0000-000000000000', 'a'.repeat(8000)]) },
    { origin: pick(['http://evil.example', 'null', 'http://127.0.0.1', '']) },
    {
      authorization: pick([
        'Bearer',
        'Bearer ',
        'Bearer a.b.c',
        'Basic Zm9vOmJhcg==',
        `Bearer ${'x'.repeat(6000)}`,
        'DPoP x',
      ]),
    },
    { 'last-event-id': pick(['1', 'x', '-1', 'a'.repeat(2000)]) },
  ]);
const form = () =>
  pick([
    'grant_type=authorization_code&code=x&redirect_uri=http://127.0.0.1/cb&code_verifier=x&client_id=x',
    'grant_type=refresh_token&refresh_token=x&client_id=x',
    'grant_type=client_credentials',
    'grant_type=&&&=&',
    'grant_type=authorization_code&grant_type=refresh_token',
    'token=x&token_type_hint=refresh_token',
    'token=' + 'x'.repeat(100_000),
    '%%%%',
    'client_id=%00&client_secret=%ff',
    junkJson(),
  ]);
const registration = () =>
  pick([
    () =>
      JSON.stringify({
        redirect_uris: pick([
          ['http://127.0.0.1/cb'],
          [],
          ['javascript:alert(1)'],
          'x',
          null,
          ['http://[::1'],
          Array(1000).fill('http://127.0.0.1/cb'),
        ]),
        client_name: pick(['x', 5, 'y'.repeat(10_000)]),
        token_endpoint_auth_method: pick(['none', 'client_secret_basic', 'bogus', 3]),
        grant_types: pick([['authorization_code'], ['implicit'], 'x']),
      }),
    () => junkJson(),
    () => form(),
  ])();

function nextRequest() {
  const kind = integer(10);
  const method = pick(['POST', 'POST', 'POST', 'GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS']);
  if (kind < 4) {
    // MCP, directly with the identity header the edge adds (the parsing is reached).
    const service = pick(['echo-stateless', 'echo-stateful', 'everything']);
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-user-id': `fuzz:${integer(3)}`,
      ...headerSets(),
    };
    return {
      target: `${service} direct`,
      url: `${upstream[service]}${pick(['/mcp', '/mcp/', '/mcp?x=1', '/mcp/../mcp', '/healthz', '/readyz', '/%'])}`,
      method,
      headers,
      body: method === 'GET' || method === 'OPTIONS' ? undefined : mcpBody(),
    };
  }
  if (kind < 6) {
    const service = pick(['echo-stateless', 'echo-stateful', 'everything']);
    return {
      target: `${service} via edge`,
      url: `${edge}/${service}${pick(['/mcp', '/mcp/', '', '/x'])}`,
      method,
      headers: { 'content-type': 'application/json', ...headerSets() },
      body: method === 'GET' || method === 'OPTIONS' ? undefined : mcpBody(),
    };
  }
  const path = pick([
    '/token',
    '/register',
    '/revoke',
    '/introspect',
    '/authorize',
    '/verify',
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
    '/.well-known/oauth-protected-resource/everything/mcp',
    '/jwks',
    '/login',
    '/%zz',
    '/' + 'a'.repeat(9000),
  ]);
  const query = pick([
    '',
    '?response_type=code&client_id=x&redirect_uri=http://127.0.0.1/cb&code_challenge=x&code_challenge_method=S256',
    '?client_id=' + '%'.repeat(10),
    '?a=1&a=2&a[]=3',
    '?redirect_uri=javascript:1',
  ]);
  const contentType = pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain', undefined]);
  const headers = { ...(contentType ? { 'content-type': contentType } : {}), ...headerSets() };
  const body = method === 'GET' || method === 'OPTIONS' ? undefined : path === '/register' ? registration() : form();
  return { target: `auth ${path.slice(0, 40)}`, url: `${edge}${path}${query}`, method, headers, body };
}

const counts = { sent: 0, byStatus: {}, hangs: [], failures: [], networkErrors: {}, deliberate503: 0 };
const deadline = Date.now() + seconds * 1000;
async function worker() {
  while (counts.sent < total && Date.now() < deadline) {
    counts.sent++;
    const request = nextRequest();
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
      // Read at most a little of an event stream (it may stay open by design), all of anything else.
      if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) await response.body?.cancel();
      else await response.arrayBuffer();
      counts.byStatus[response.status] = (counts.byStatus[response.status] ?? 0) + 1;
      if (response.status === 503) counts.deliberate503++;
      else if (response.status >= 500)
        counts.failures.push(
          `${response.status} ${request.method} ${request.target} ${JSON.stringify(request.headers).slice(0, 200)} ${String(request.body).slice(0, 200)}`,
        );
    } catch (error) {
      if (error.name === 'TimeoutError') counts.hangs.push(`${request.method} ${request.target}`);
      else {
        // The server refused the request before reading it all (e.g. 413 then close): not a hang, not a 5xx.
        const code = error.cause?.code ?? error.name;
        counts.networkErrors[code] = (counts.networkErrors[code] ?? 0) + 1;
      }
    }
  }
}
const fuzzStart = Date.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = ((Date.now() - fuzzStart) / 1000).toFixed(1);
// The gateway must still answer after the run.
const alive = await fetch(`${edge}/.well-known/oauth-authorization-server`).then(
  (response) => response.ok,
  () => false,
);
await stopGateway();

console.log(`fuzz: ${counts.sent} requests in ${elapsed} s (seed ${option('seed', 1)}, concurrency ${concurrency})`);
console.log(
  `  statuses: ${Object.entries(counts.byStatus)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ')}`,
);
console.log(`  deliberate 503: ${counts.deliberate503}`);
console.log(`  connection closed by the server before the answer was read: ${JSON.stringify(counts.networkErrors)}`);
console.log(`  hangs (no answer within 10 s): ${counts.hangs.length}`);
console.log(`  5xx other than 503: ${counts.failures.length}`);
console.log(`  gateway answering afterwards: ${alive}`);
for (const line of [...counts.hangs.map((hang) => `hang: ${hang}`), ...counts.failures].slice(0, 30))
  console.log(`    ${line}`);
process.exitCode = counts.hangs.length > 0 || counts.failures.length > 0 || !alive ? 1 : 0;
