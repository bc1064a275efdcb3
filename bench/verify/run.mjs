#!/usr/bin/env node
// Benchmark (not a test): auth's /verify with a valid RS256 token against a bare Fastify handler, in one run.
// Usage: node bench/verify/run.mjs [--duration 5] [--connections 1,16,64]   (build first: npx nx run auth:build)
// Each server runs pinned to CPU 1 (taskset) and autocannon to CPU 0 with a private redis-server (method:
// docs/benchmarks.md). Prints a Markdown table for docs/benchmarks.md.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const duration = Number(option('duration', '5'));
const connectionsList = option('connections', '1,16,64').split(',').map(Number);
const logLevel = option('log-level', 'info');
// --cpu-prof DIR: auth writes a V8 CPU profile there when the run ends (open it in Chrome DevTools).
const cpuProfDir = option('cpu-prof', '');
const pinned = spawnSync('taskset', ['-V']).status === 0;
const onCore = (core, command, commandArgs) =>
  pinned ? ['taskset', ['-c', String(core), command, ...commandArgs]] : [command, commandArgs];
if (pinned) spawnSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });

const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

function start(core, command, commandArgs, env) {
  const [cmd, cmdArgs] = onCore(core, command, commandArgs);
  const child = spawn(cmd, cmdArgs, {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

// 1. A private Redis (shares CPU 0 with the load generator).
const redisPort = await freePort();
start(0, 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
const redisUrl = `redis://127.0.0.1:${redisPort}`;
await new Promise((resolve) => setTimeout(resolve, 300));
const redis = new Redis(redisUrl, { keyPrefix: 'bench:' });

// 2. auth, built, on CPU 1.
const authPort = await freePort();
const profArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
const authProcess = start(1, process.execPath, [...profArgs, join(root, 'dist/apps/auth/src/main.js')], {
  NODE_ENV: 'development',
  LOG_FORMAT: 'json',
  LOG_LEVEL: logLevel,
  HOST: '127.0.0.1',
  PORT: String(authPort),
  REDIS_URL: redisUrl,
  STORAGE_PREFIX: 'bench:',
  PUBLIC_URL: 'http://localhost:8080',
  ALLOWED_DEV_USERS: '*',
  LOGIN_PROVIDER: 'dev',
});
const authUrl = `http://127.0.0.1:${authPort}`;
await waitFor(`${authUrl}/readyz`);

// 3. A valid RS256 token, minted over HTTP from a client and code written in the records.ts shapes.
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
    resource: 'http://localhost:8080/echo-stateless/mcp',
    scope: 'mcp',
    issuedAt: Math.floor(Date.now() / 1000),
    user: { sub: 'dev:bench', provider: 'dev', login: 'bench', name: 'Bench', email: 'bench@example.com' },
  }),
  'EX',
  60,
);
const tokenResponse = await fetch(`${authUrl}/token`, {
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
const { access_token: token } = await tokenResponse.json();
if (!token) throw new Error(`no token: ${tokenResponse.status}`);
redis.disconnect();

// 4. The bare Fastify handler on CPU 1.
const barePort = await freePort();
const bareProcess = start(1, process.execPath, [join(root, 'bench/verify/bare-fastify.mjs')], {
  PORT: String(barePort),
});
const bareUrl = `http://127.0.0.1:${barePort}`;
await waitFor(`${bareUrl}/verify`);

const headers = {
  authorization: `Bearer ${token}`,
  'x-forwarded-method': 'POST',
  'x-forwarded-proto': 'http',
  'x-forwarded-host': 'localhost:8080',
  'x-forwarded-uri': '/echo-stateless/mcp',
};
const check = await fetch(`${authUrl}/verify`, { headers });
if (check.status !== 200) throw new Error(`/verify answered ${check.status}, expected 200`);

// CPU seconds (user + system) a process has used: CPU per request barely depends on what else runs on the
// machine, so it gives a load-independent ratio next to the req/s one (which needs a quiet machine).
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

async function measure(url, pid, connections) {
  await autocannon({ url: `${url}/verify`, headers, connections, duration: 1 }); // warm-up
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({ url: `${url}/verify`, headers, connections, duration });
  const cpu = cpuSeconds(pid) - cpuBefore;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: (cpu / result.requests.total) * 1e6,
  };
}

const rows = [];
for (const connections of connectionsList) {
  const bare = await measure(bareUrl, bareProcess.pid, connections);
  const verify = await measure(authUrl, authProcess.pid, connections);
  rows.push({ connections, bare, verify });
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `\n/verify (auth, LOG_LEVEL=${logLevel}) vs bare Fastify; ${duration}s per cell after 1s warm-up; token ${token.length} chars; pinned=${pinned}; load average ${load}\n`,
);
console.log(
  '| connections | bare Fastify req/s | p50 ms | p99 ms | CPU µs/req | /verify req/s | p50 ms | p99 ms | CPU µs/req | req/s ratio | CPU ratio |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const { connections, bare, verify } of rows) {
  const pct = (a, b) => `${Math.round((a / b) * 100)}%`;
  console.log(
    `| ${connections} | ${fmt(bare.rps)} | ${bare.p50} | ${bare.p99} | ${fmt(bare.cpuUs)} | ${fmt(verify.rps)} | ${verify.p50} | ${verify.p99} | ${fmt(verify.cpuUs)} | ${pct(verify.rps, bare.rps)} | ${pct(bare.cpuUs, verify.cpuUs)} |`,
  );
}
if (cpuProfDir) {
  // A graceful stop, so that V8 writes the profile.
  const exited = once(authProcess, 'exit');
  authProcess.kill('SIGTERM');
  await exited;
  console.log(`\nCPU profile of auth written to ${cpuProfDir}`);
}
process.exit(0);
