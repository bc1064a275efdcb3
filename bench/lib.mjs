// Helpers shared by the benchmark scripts under bench/ (not tests): options, pinned processes, ports, CPU time,
// load average, a valid access token. Linux only (taskset, /proc).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `--name value` from the command line, or `fallback`. */
export function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

/**
 * Whether processes are pinned: `taskset` works here and `--pin none` was not given. The load generator (this
 * process) then runs on CPU 0, servers on CPU 1; unpinned, the scheduler places every process on both cores.
 */
export const pinned = option('pin', '') !== 'none' && spawnSync('taskset', ['-V']).status === 0;
if (pinned) spawnSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });

const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

/** Starts `command` on `core` (taskset, when available) with only PATH/HOME inherited; killed when we exit. */
export function start(core, command, commandArgs, env = {}, options = {}) {
  const [cmd, cmdArgs] = pinned ? ['taskset', ['-c', String(core), command, ...commandArgs]] : [command, commandArgs];
  const child = spawn(cmd, cmdArgs, {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', options.stdout ?? 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Stops a child gracefully (SIGTERM), e.g. so that it writes its `--cpu-prof` profile. */
export async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Waits until `url` answers with a status below 500. */
export async function waitFor(url, attempts = 300) {
  for (let i = 0; i < attempts; i++) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

/**
 * CPU seconds (user + system) a process has used. CPU per request barely depends on what else runs on the machine,
 * so it gives a load-independent ratio next to the req/s one (which needs a quiet machine).
 */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The 1, 5 and 15 minute load averages, as `uptime` shows them. */
export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** A private redis-server on CPU 0 (with the load generator); resolves to its URL. */
export async function startRedis() {
  const port = await freePort();
  start(0, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
      redis.disconnect();
      break;
    } catch (error) {
      redis.disconnect();
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return url;
}

/**
 * A valid RS256 access token from auth in Redis mode (prefix `prefix`), minted over HTTP: a public client and an
 * authorization code are written in the `records.ts` shapes, then the code is redeemed at `/token` (RFC 6749 §4.1.3,
 * PKCE RFC 7636).
 */
export async function mintToken({ authUrl, redisUrl, prefix, resource }) {
  const redis = new Redis(redisUrl, { keyPrefix: prefix });
  const sha = (value) => createHash('sha256').update(value).digest('hex');
  const clientId = 'bench-client';
  await redis.set(
    `client:${clientId}`,
    JSON.stringify({
      clientId,
      registrationTokenHash: sha('x'),
      issuedAt: 0,
      expiresAt: 0,
      metadata: {
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    }),
  );
  const code = randomBytes(24).toString('base64url');
  const verifier = randomBytes(40).toString('base64url');
  await redis.set(
    `code:${sha(code)}`,
    JSON.stringify({
      clientId,
      redirectUri: 'http://127.0.0.1/cb',
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      codeChallengeMethod: 'S256',
      resource,
      scope: 'mcp',
      issuedAt: Math.floor(Date.now() / 1000),
      user: { sub: 'dev:bench', provider: 'dev', login: 'bench', name: 'Bench', email: 'bench@example.com' },
    }),
    'EX',
    60,
  );
  redis.disconnect();
  const response = await fetch(`${authUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: 'http://127.0.0.1/cb',
      code_verifier: verifier,
    }),
  });
  const { access_token: token } = await response.json();
  if (!token) throw new Error(`no token: ${response.status}`);
  return token;
}

/**
 * The request the official SDK v2 client sends for `callTool({ name: 'echo', arguments: { message: 'bench' } })`:
 * pinned to MCP 2026-07-28 (`modern`, the per-request `_meta` envelope), or after the 2025 handshake (`legacy`).
 */
export function echoCall(era) {
  const headers = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
  const params = { name: 'echo', arguments: { message: 'bench' } };
  if (era === 'legacy') {
    return {
      headers: { ...headers, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }),
    };
  }
  const _meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  return {
    headers: { ...headers, 'mcp-method': 'tools/call', 'mcp-name': 'echo', 'mcp-protocol-version': '2026-07-28' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...params, _meta } }),
  };
}
