#!/usr/bin/env node
// Benchmark (not a test): what the full path through the dev edge (edge → auth /verify → edge → service) adds to a
// `tools/call` of echo-stateless, at one connection, against calling the service directly in the same run.
// Usage: node bench/edge/run.mjs [--requests 3000] [--pin none] [--cpu-prof DIR]
//   (build first: npx nx run-many -t build). Prints a Markdown table for docs/benchmarks.md.
// The gateway starts as `npm start` does (tools/scripts/start.mjs --no-build: auth in Redis mode on a private
// redis-server, echo-stateless, the dev edge), pinned to CPU 1 (taskset); this process sends the requests from CPU
// 0, one at a time, alternating edge and direct so that both meet the same machine. Direct requests carry the
// identity headers the edge would add. `/verify` is also timed alone (as the edge calls it), to split the cost, and
// the same call goes through bench/edge/bare-edge.mjs (the least a forwardAuth proxy does: the architecture's floor).
// --pin none: no taskset, the scheduler spreads every process over both cores.
// --cpu-prof DIR: every gateway process writes a V8 CPU profile there when the run ends.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Pool } from 'undici';
import {
  cpuSeconds,
  echoCall,
  freePort,
  loadAverage,
  mintToken,
  option,
  pinned,
  root,
  start,
  startRedis,
} from '../lib.mjs';

const requests = Number(option('requests', '3000'));
const cpuProfDir = option('cpu-prof', '');
const loadAtStart = loadAverage();
const require = createRequire(import.meta.url);
const { SERVICES, envKeyOf } = require(join(root, 'dist/libs/catalog/src'));

const redisUrl = await startRedis();
const [edgePort, authPort, echoPort, barePort] = [
  await freePort(),
  await freePort(),
  await freePort(),
  await freePort(),
];
const publicUrl = `http://127.0.0.1:${edgePort}`;
const gateway = start(
  1,
  process.execPath,
  [join(root, 'tools/scripts/start.mjs'), '--no-build'],
  {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    AUTH_UPSTREAM: `http://127.0.0.1:${authPort}`,
    MCP_ECHO_STATELESS_UPSTREAM: `http://127.0.0.1:${echoPort}`,
    REDIS_URL: redisUrl,
    STORAGE_PREFIX: 'bench:',
    ...Object.fromEntries(
      SERVICES.filter((service) => service.name !== 'echo-stateless').map((service) => [
        `MCP_${envKeyOf(service.name)}_ENABLED`,
        'false',
      ]),
    ),
    ...(cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${cpuProfDir}` } : {}),
  },
  { stdout: 'pipe' },
);
let output = '';
gateway.stdout.on('data', (chunk) => (output += chunk));
for (let waited = 0; !/^Ctrl-C stops everything/m.test(output); waited += 200) {
  if (gateway.exitCode !== null || waited > 120_000) throw new Error(`the gateway did not start:\n${output}`);
  await new Promise((resolve) => setTimeout(resolve, 200));
}
const mcpPath = '/echo-stateless/mcp';
const bare = start(
  1,
  process.execPath,
  [join(root, 'bench/edge/bare-edge.mjs')],
  {
    PORT: String(barePort),
    AUTH_URL: `http://127.0.0.1:${authPort}/verify`,
    SERVICE_URL: `http://127.0.0.1:${echoPort}`,
    SERVICE_PATH: '/mcp',
    PUBLIC_HOST: `127.0.0.1:${edgePort}`,
  },
  { stdout: 'pipe' },
);
await once(bare.stdout, 'data');
const token = await mintToken({
  authUrl: `http://127.0.0.1:${authPort}`,
  redisUrl,
  prefix: 'bench:',
  resource: `${publicUrl}${mcpPath}`,
});

const { headers: mcpHeaders, body } = echoCall('modern');
// What /verify answers for this token, so that the direct call carries what the edge would add.
const verifyHeaders = {
  authorization: `Bearer ${token}`,
  'x-forwarded-method': 'POST',
  'x-forwarded-proto': 'http',
  'x-forwarded-host': `127.0.0.1:${edgePort}`,
  'x-forwarded-uri': mcpPath,
};
const verified = await fetch(`http://127.0.0.1:${authPort}/verify`, { headers: verifyHeaders });
if (verified.status !== 200) throw new Error(`/verify answered ${verified.status}`);
const identity = Object.fromEntries([...verified.headers].filter(([name]) => /^x-(user|client|scope)/.test(name)));

/** One request on a one-connection keep-alive pool; resolves to its latency in ms after checking the answer. */
const targets = {
  edge: {
    pool: new Pool(publicUrl, { connections: 1 }),
    options: { path: mcpPath, method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}` }, body },
  },
  bare: {
    pool: new Pool(`http://127.0.0.1:${barePort}`, { connections: 1 }),
    options: { path: mcpPath, method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${token}` }, body },
  },
  direct: {
    pool: new Pool(`http://127.0.0.1:${echoPort}`, { connections: 1 }),
    options: { path: '/mcp', method: 'POST', headers: { ...mcpHeaders, ...identity }, body },
  },
  verify: {
    pool: new Pool(`http://127.0.0.1:${authPort}`, { connections: 1 }),
    options: { path: '/verify', method: 'GET', headers: verifyHeaders },
  },
};
async function timed({ pool, options }) {
  const started = performance.now();
  const answer = await pool.request(options);
  const text = await answer.body.text();
  const elapsed = performance.now() - started;
  if (answer.statusCode !== 200 || (options.body && !text.includes('"text":"bench"')))
    throw new Error(`${options.path}: ${answer.statusCode} ${text}`);
  return elapsed;
}

// The processes start.mjs runs, by what they run: CPU time per request is steadier than latency on a busy machine.
const processes = Object.fromEntries(
  execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(gateway.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([pid, ...command]) => [
      /dev-edge/.test(command.join(' ')) ? 'edge' : /apps\/auth/.test(command.join(' ')) ? 'auth' : 'echo',
      Number(pid),
    ]),
);
processes.bare = bare.pid;
const latencies = { edge: [], bare: [], direct: [], verify: [] };
for (let i = 0; i < 200; i++) for (const target of Object.values(targets)) await timed(target); // warm-up
const cpuBefore = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]));
for (let i = 0; i < requests; i++) {
  // Alternating order, so that neither target always follows the other.
  const order = i % 2 === 0 ? ['edge', 'bare', 'direct', 'verify'] : ['verify', 'direct', 'bare', 'edge'];
  for (const name of order) latencies[name].push(await timed(targets[name]));
}

// µs of CPU per request: the edge's and the bare proxy's own; auth's and echo-stateless's are shared by three kinds
// of request (auth: /verify alone, the edge's and the bare proxy's; echo: direct, through the edge and the bare proxy).
const cpuUs = Object.fromEntries(
  Object.entries(processes).map(([name, pid]) => [
    name,
    ((cpuSeconds(pid) - cpuBefore[name]) / (name === 'edge' || name === 'bare' ? requests : 3 * requests)) * 1e6,
  ]),
);
const at = (sorted, quantile) => sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))];
const stats = Object.fromEntries(
  Object.entries(latencies).map(([name, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return [name, { p50: at(sorted, 0.5), p90: at(sorted, 0.9), p99: at(sorted, 0.99) }];
  }),
);
const ms = (value) => value.toFixed(3);
console.log(
  `\n${requests} tools/call per target at one connection, interleaved; Node ${process.version}; pinned=${pinned}; ` +
    `load average ${loadAtStart} at the start, ${loadAverage()} at the end\n`,
);
console.log('| path | p50 ms | p90 ms | p99 ms |');
console.log('|---|---|---|---|');
console.log(
  `| direct to echo-stateless (identity headers) | ${ms(stats.direct.p50)} | ${ms(stats.direct.p90)} | ${ms(stats.direct.p99)} |`,
);
console.log(
  `| through the dev edge (bearer token) | ${ms(stats.edge.p50)} | ${ms(stats.edge.p90)} | ${ms(stats.edge.p99)} |`,
);
console.log(
  `| through a bare forwardAuth proxy (bench/edge/bare-edge.mjs) | ${ms(stats.bare.p50)} | ${ms(stats.bare.p90)} | ${ms(stats.bare.p99)} |`,
);
console.log(
  `| /verify alone (as the edge calls it) | ${ms(stats.verify.p50)} | ${ms(stats.verify.p90)} | ${ms(stats.verify.p99)} |`,
);
console.log(
  `\nAdded by the edge at p50: ${ms(stats.edge.p50 - stats.direct.p50)} ms (goal ≤ 0.5 ms), of which /verify's own ` +
    `round trip ≈ ${ms(stats.verify.p50)} ms; by the bare proxy: ${ms(stats.bare.p50 - stats.direct.p50)} ms.`,
);
console.log(
  `CPU per request (µs, /proc): edge ${cpuUs.edge.toFixed(0)} (bare proxy ${cpuUs.bare.toFixed(0)}), auth /verify ${cpuUs.auth.toFixed(0)}, ` +
    `echo-stateless ${cpuUs.echo.toFixed(0)}: the edge path adds ≈ ${(cpuUs.edge + cpuUs.auth).toFixed(0)} µs of CPU ` +
    `to the service's own.`,
);
await Promise.all(Object.values(targets).map(({ pool }) => pool.close()));
const exited = once(gateway, 'exit');
gateway.kill('SIGINT'); // start.mjs stops every process gracefully (profiles are written then)
await exited;
if (cpuProfDir) console.log(`\nCPU profiles of the gateway's processes written to ${cpuProfDir}`);
process.exit(0);
