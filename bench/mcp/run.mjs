#!/usr/bin/env node
// Benchmark (not a test): `tools/call` of `echo` against echo-stateless (ours, built) in both MCP eras and a bare
// SDK v2 server (bench/mcp/bare-sdk-v2.mjs) with the same tool, each server pinned to one core, in one run.
// Usage: node bench/mcp/run.mjs [--calls 500] [--clients 4]
//   (build first: npx nx run echo-stateless:build). Prints a Markdown table for docs/benchmarks.md.
// Clients: the official SDK v2 client, pinned to 2026-07-28 or to the 2025 handshake ('legacy'); `--clients`
// clients call sequentially at the same time. Latency is measured at the client; client and servers share the
// machine, so figures are relative.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return Number(index >= 0 ? args[index + 1] : fallback);
};
const calls = option('calls', 500);
const clients = option('clients', 4);

const spawned = [];
process.on('exit', () => spawned.forEach((child) => child.kill('SIGKILL')));

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function waitForPort(port) {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Starts a server on one core (taskset -c <core>) and waits for its port. */
async function start(script, core) {
  const port = await freePort();
  const child = spawn('taskset', ['-c', String(core), process.execPath, script], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  spawned.push(child);
  await waitForPort(port);
  return `http://127.0.0.1:${port}/mcp`;
}

async function connect(url, era) {
  const mode = era === 'modern' ? { pin: '2026-07-28' } : 'legacy';
  const client = new Client({ name: 'bench', version: '1' }, { versionNegotiation: { mode } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { 'x-user-id': 'bench:1' } } }),
  );
  return client;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(url, era) {
  const connected = await Promise.all(Array.from({ length: clients }, () => connect(url, era)));
  // Warm-up: JIT and connection pools.
  await Promise.all(
    connected.map(async (client) => {
      for (let i = 0; i < 20; i++) await client.callTool({ name: 'echo', arguments: { message: 'warm' } });
    }),
  );
  const latencies = [];
  const started = performance.now();
  await Promise.all(
    connected.map(async (client) => {
      for (let i = 0; i < calls; i++) {
        const before = performance.now();
        await client.callTool({ name: 'echo', arguments: { message: `m${i}` } });
        latencies.push(performance.now() - before);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(connected.map((client) => client.close()));
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const echo = await start(join(root, 'dist/apps/echo-stateless/src/main.js'), 0);
const bare = await start(join(root, 'bench/mcp/bare-sdk-v2.mjs'), 1);
const rows = [];
for (const [name, url, era] of [
  ['echo-stateless (ours), 2026-07-28', echo, 'modern'],
  ['echo-stateless (ours), 2025-11-25', echo, 'legacy'],
  ['bare SDK v2 server, 2026-07-28', bare, 'modern'],
  ['bare SDK v2 server, 2025-11-25 (stateless fallback)', bare, 'legacy'],
]) {
  const result = await measure(url, era);
  rows.push(`| ${name} | ${result.rps.toFixed(0)} | ${result.p50.toFixed(2)} | ${result.p99.toFixed(2)} |`);
  process.stderr.write(`${rows.at(-1)}\n`);
}
process.stdout.write(
  [
    `${clients} clients × ${calls} sequential tools/call each, Node ${process.version}, servers on one core each (taskset)`,
    '',
    '| server, era | req/s | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n'),
);
process.exit(0);
