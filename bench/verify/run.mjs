#!/usr/bin/env node
// Benchmark (not a test): auth's /verify with a valid RS256 token against a bare Fastify handler, in one run.
// Usage: node bench/verify/run.mjs [--duration 5] [--connections 1,16,64] [--load autocannon|wrk]
//   (build first: npx nx run auth:build)
// Each server runs pinned to CPU 1 (taskset) and the load generator to CPU 0 with a private redis-server (method:
// docs/benchmarks.md). Prints a Markdown table for docs/benchmarks.md.
// --load wrk: Debian's `wrk` (C, one thread) instead of autocannon (JavaScript, in this process). At 64 connections
// autocannon saturates its core before a bare Fastify handler does, and its own event-loop delays then set the p99
// of both servers; wrk costs a fraction of that CPU per request, so the latencies are the servers'.
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import {
  cpuSeconds,
  freePort,
  loadAverage,
  mintToken,
  option,
  pinned,
  root,
  start,
  startRedis,
  stop,
  waitFor,
} from '../lib.mjs';

const duration = Number(option('duration', '5'));
const connectionsList = option('connections', '1,16,64').split(',').map(Number);
const logLevel = option('log-level', 'info');
// --cpu-prof DIR: auth writes a V8 CPU profile there when the run ends (open it in Chrome DevTools).
const cpuProfDir = option('cpu-prof', '');
const load = option('load', 'autocannon');
if (!['autocannon', 'wrk'].includes(load)) throw new Error(`--load ${load}: autocannon or wrk`);
if (load === 'wrk' && spawnSync('wrk', ['-v']).error) throw new Error('--load wrk needs wrk: apt-get install wrk');

// 1. A private Redis (shares CPU 0 with the load generator).
const redisUrl = await startRedis();

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

// 3. A valid RS256 token, minted over HTTP.
const token = await mintToken({
  authUrl,
  redisUrl,
  prefix: 'bench:',
  resource: 'http://localhost:8080/echo-stateless/mcp',
});

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

/** One wrk run (pinned to CPU 0 like this process): req/s, p50 and p99 in ms, requests, non-2xx and socket errors. */
async function wrk(url, connections, seconds) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const [command, commandArgs] = pinned ? ['taskset', ['-c', '0', 'wrk', ...args, url]] : ['wrk', [...args, url]];
  const { stdout } = await promisify(execFile)(command, commandArgs);
  const ms = (text) => {
    const [, value, unit] = /([\d.]+)(us|ms|s)\b/.exec(text) ?? [];
    if (value === undefined) throw new Error(`wrk: no latency in ${text}`);
    return Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  };
  const line = (pattern) => stdout.split('\n').find((entry) => pattern.test(entry)) ?? '';
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
    p50: ms(line(/^\s+50%/)),
    p99: ms(line(/^\s+99%/)),
    total: Number(/(\d+) requests in/.exec(stdout)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0),
    errors: socketErrors ? socketErrors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0,
  };
}

async function measure(url, pid, connections) {
  if (load === 'wrk') {
    await wrk(`${url}/verify`, connections, 1); // warm-up
    const cpuBefore = cpuSeconds(pid);
    const result = await wrk(`${url}/verify`, connections, duration);
    const cpu = cpuSeconds(pid) - cpuBefore;
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} socket errors`);
    return {
      rps: result.rps,
      p50: result.p50.toFixed(2),
      p99: result.p99.toFixed(2),
      cpuUs: (cpu / result.total) * 1e6,
    };
  }
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
console.log(
  `\n/verify (auth, LOG_LEVEL=${logLevel}) vs bare Fastify; load generator ${load}; ${duration}s per cell after 1s warm-up; token ${token.length} chars; pinned=${pinned}; load average ${loadAverage()}\n`,
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
  await stop(authProcess); // a graceful stop, so that V8 writes the profile
  console.log(`\nCPU profile of auth written to ${cpuProfDir}`);
}
process.exit(0);
