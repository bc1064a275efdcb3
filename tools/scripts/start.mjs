#!/usr/bin/env node
// `npm start`: builds, then runs auth, every enabled MCP service and the dev edge on this machine, with memory
// storage unless REDIS_URL is set. Each service listens on the port of its upstream URL (the catalog's port,
// or MCP_<NAME>_UPSTREAM / AUTH_UPSTREAM); the edge on the port of PUBLIC_URL. A service that crashes is
// restarted with a backoff; Ctrl-C stops everything.
// `--no-build` skips the build (the e2e test builds through Nx first). `--skip a,b` leaves those services to you
// (run one under a debugger, or another server at its MCP_<NAME>_UPSTREAM): the edge still routes to them.
// `--replicas N` (or GATEWAY_REPLICAS=N) runs N of auth and of every service, replica i on its first port + 10*i
// (or on the origins MCP_<NAME>_UPSTREAM lists); the edge balances over them. A stdio service's replicas forward a
// request to the one holding its child: each gets STDIO_PEER_URL (its own origin) and one STDIO_PEER_SECRET.
// `--stdio-only` runs just the enabled stdio servers, one stdio-proxy each: stdio-proxy's `serve` target, so that
// `npx nx run-many -t serve` runs the same processes as `npm start`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const nx = join(root, 'node_modules/nx/dist/bin/nx.js');

if (!process.argv.includes('--no-build')) {
  const build = spawnSync(process.execPath, [nx, 'run-many', '-t', 'build', '--output-style=static'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NX_NO_CLOUD: 'true' },
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const { loadRawEnv } = require(join(root, 'dist/libs/config/src'));
const { resolveTopology } = require(join(root, 'dist/libs/catalog/src'));
// `--replicas N` is GATEWAY_REPLICAS=N: N processes of auth and of each service.
const replicasIndex = process.argv.indexOf('--replicas');
if (replicasIndex > 0) process.env.GATEWAY_REPLICAS = process.argv[replicasIndex + 1] ?? '';
const env = loadRawEnv();
let topology;
try {
  topology = resolveTopology(env);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

// Replicas share clients, tokens, keys and sessions through Redis; memory storage would give each its own.
if (
  !env.REDIS_URL &&
  [topology.authUpstreamUrls, ...topology.enabled.map((s) => s.upstreamUrls)].some((u) => u.length > 1)
) {
  console.error('replicas share their state through Redis: set REDIS_URL (memory storage is per process)');
  process.exit(1);
}

const stdioOnly = process.argv.includes('--stdio-only');
const publicUrl = new URL(topology.issuer);
// The dev edge reads the same Traefik dynamic configuration the generator writes, for this environment.
// One file per public port, so that several gateways (a developer's, an e2e test's) can run side by side.
const dynamicConfig = join(root, 'tmp/gateway', publicUrl.port || publicUrl.protocol.slice(0, -1), 'dynamic.yml');
if (!stdioOnly) {
  const generate = spawnSync(
    process.execPath,
    [join(root, 'dist/tools/gateway-config/src/main.js'), '--out', dynamicConfig],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (generate.status !== 0) process.exit(generate.status ?? 1);
  process.on('exit', () => rmSync(dirname(dynamicConfig), { recursive: true, force: true }));
}

const skipIndex = process.argv.indexOf('--skip');
const skipped = new Set(skipIndex > 0 ? (process.argv[skipIndex + 1] ?? '').split(',') : []);
const portOf = (url) => Number(new URL(url).port);
// One process per replica: replica i of NAME is `NAME#i` (i from 2) on the port of its upstream URL.
const replicaName = (name, index) => (index === 0 ? name : `${name}#${index + 1}`);
// The dev edge on loopback is auth's proxy: its X-Forwarded-For names the client (registration rate limits).
const processes = stdioOnly
  ? []
  : topology.authUpstreamUrls.map((url, index) => ({
      name: replicaName('auth', index),
      main: 'dist/apps/auth/src/main.js',
      port: portOf(url),
      env: { TRUSTED_PROXIES: env.TRUSTED_PROXIES || '127.0.0.1' },
    }));
const services = topology.enabled.filter(
  (candidate) => !skipped.has(candidate.name) && (!stdioOnly || candidate.kind === 'stdio'),
);
// Signs the forwards between stdio-proxy replicas (docs/stdio-proxy.md "Replicas"); fresh for every start.
const peerSecret = env.STDIO_PEER_SECRET || randomBytes(32).toString('hex');
for (const service of services) {
  const peers = service.kind === 'stdio' && service.upstreamUrls.length > 1;
  service.upstreamUrls.forEach((url, index) =>
    processes.push({
      name: replicaName(service.name, index),
      main: `dist/apps/${service.app}/src/main.js`,
      port: portOf(url),
      env: {
        ...(service.kind === 'stdio' ? { MCP_SERVICE: service.name } : {}),
        ...(peers ? { STDIO_PEER_URL: url, STDIO_PEER_SECRET: peerSecret } : {}),
      },
    }),
  );
}
// The edge starts last, once every service answers: its health checks then find them up (Traefik's servers
// start healthy; a check that met a service still booting would keep it out of rotation for one interval).
const edge = stdioOnly
  ? undefined
  : { name: 'dev-edge', main: 'dist/tools/dev-edge/src/main.js', args: ['--config', dynamicConfig] };

// Supervision: a service that exits on its own is restarted after a backoff (0.5 s, doubling up to 10 s) and
// the console says so; one that crashes CRASH_LIMIT times within CRASH_WINDOW_MS stops the gateway (a crash loop
// is a configuration or code error a restart will not fix). Ctrl-C (SIGINT) or SIGTERM stops everything.
const CRASH_LIMIT = 5;
const CRASH_WINDOW_MS = 60_000;
let stopping = false;
// METRICS_PORT (docs/operations.md): one metrics port per process, METRICS_PORT + its index in this list.
const metricsBase = Number(env.METRICS_PORT) || 0;
processes.forEach((entry, index) => {
  if (metricsBase && entry.port) entry.metrics = { METRICS_PORT: String(metricsBase + index) };
});
const running = new Map(); // name → the current child process
const restartTimers = new Set();

function launch(entry) {
  const { name, main, port, args = [], env: extra = {}, metrics = {} } = entry;
  const child = spawn(process.execPath, ['--enable-source-maps', join(root, main), ...args], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...extra, ...metrics, ...(port ? { PORT: String(port) } : {}) },
  });
  running.set(name, child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    const now = Date.now();
    entry.crashes = [...(entry.crashes ?? []).filter((at) => now - at < CRASH_WINDOW_MS), now];
    const crashes = entry.crashes.length;
    if (crashes >= CRASH_LIMIT) {
      console.error(
        `${name} exited (${signal ?? code}) ${crashes} times within ${CRASH_WINDOW_MS / 1000} s; stopping the gateway`,
      );
      stopAll(1);
      return;
    }
    const delay = Math.min(500 * 2 ** (crashes - 1), 10_000);
    console.error(
      `${name} exited (${signal ?? code}); restarting it in ${delay / 1000} s (crash ${crashes} of ${CRASH_LIMIT} allowed within ${CRASH_WINDOW_MS / 1000} s)`,
    );
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (stopping) return;
      launch(entry);
      console.error(`${name} restarted (pid ${running.get(name).pid})`);
    }, delay);
    restartTimers.add(timer);
  });
}
for (const entry of processes) launch(entry);

function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  process.exitCode = exitCode;
  for (const timer of restartTimers) clearTimeout(timer);
  for (const child of running.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

// Wait until every service answers, then start the edge and wait for it, then say where everything is.
// The edge counts as up when it answers at all (the public names may not resolve here, e.g. *.localhost).
const deadline = Date.now() + 150_000;
async function waitFor(url, ok) {
  while (!stopping) {
    if (await fetch(url).then(ok, () => false)) return;
    if (Date.now() > deadline) {
      console.error(`not ready after 150 s: ${url}`);
      stopAll(1);
      return;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}
for (const entry of processes.filter((candidate) => candidate.port))
  await waitFor(`http://127.0.0.1:${entry.port}/readyz`, (response) => response.ok);
if (edge && !stopping) {
  launch(edge);
  await waitFor(`http://127.0.0.1:${publicUrl.port || (publicUrl.protocol === 'https:' ? '443' : '80')}/`, () => true);
}
if (!stopping && stdioOnly) {
  for (const service of services) console.log(`stdio-proxy for ${service.name} ready on ${service.upstreamUrl}`);
} else if (!stopping) {
  const login = env.LOGIN_PROVIDER || (env.GITHUB_CLIENT_ID ? 'github' : env.OIDC_ISSUER ? 'oidc' : 'dev');
  console.log(`\nMCP OAuth Gateway ready (${topology.mode} routing), issuer ${topology.issuer}`);
  console.log(
    `  storage: ${env.REDIS_URL ? `Redis ${env.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}` : 'memory (lost on restart; set REDIS_URL to keep it)'}`,
  );
  console.log(`  login:   ${login}${login === 'dev' ? ' (any username, no password: for this machine only)' : ''}`);
  console.log('  MCP servers (connect with the MCP Inspector: Transport "Streamable HTTP", the URL, then "Connect"):');
  for (const service of topology.enabled) console.log(`    ${service.name.padEnd(22)} ${service.mcpUrl}`);
  const replicated = [{ name: 'auth', replicas: topology.authUpstreamUrls.length }, ...services].filter(
    (entry) => (entry.replicas ?? 1) > 1,
  );
  if (replicated.length)
    console.log(
      `  replicas (the edge balances over them): ${replicated.map((e) => `${e.name} ${e.replicas}`).join(', ')}`,
    );
  console.log('Ctrl-C stops everything.\n');
}
