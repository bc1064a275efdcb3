#!/usr/bin/env node
// Benchmark (not a test): `tools/call` of server-everything's `echo` through our stdio-proxy, supergateway --stateful
// and mcp-proxy (npm), each wrapping the same stdio server, and a direct stdio client, in one run.
// Usage: node bench/stdio-proxy/run.mjs [--calls 200] [--sessions 16] [--per-session 25]
//   (build first: npx nx run stdio-proxy:build). Prints a Markdown table for docs/benchmarks.md.
// Client and bridges share the machine, so figures are relative. RSS per session = (bridge + all its
// descendants' RSS with N sessions open − the bridge alone before any session) / N.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return Number(index >= 0 ? args[index + 1] : fallback);
};
const sequentialCalls = option('calls', 200);
const sessionCount = option('sessions', 16);
const perSession = option('per-session', 25);
const everything = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];

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

function descendants(pid) {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = out.split('\n').map(Number).filter(Boolean);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function rssOf(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0; // exited meanwhile (e.g. the ps that listed it)
  }
}
const treeRss = (pid) => [pid, ...descendants(pid)].reduce((sum, each) => sum + rssOf(each), 0);

const bridges = {
  'stdio-proxy (ours)': (port) => [
    process.execPath,
    [join(root, 'dist/apps/stdio-proxy/src/main.js')],
    {
      PORT: String(port),
      MCP_SERVICE: 'everything',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      STDIO_MAX_CHILDREN: '100',
      STDIO_MAX_CHILDREN_PER_USER: '100',
    },
  ],
  'supergateway --stateful': (port) => [
    process.execPath,
    [
      join(root, 'node_modules/supergateway/dist/index.js'),
      '--stdio',
      `${process.execPath} ${everything.join(' ')}`,
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--port',
      String(port),
      '--logLevel',
      'none',
    ],
    {},
  ],
  'mcp-proxy (npm)': (port) => [
    process.execPath,
    [
      join(root, 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--',
      process.execPath,
      ...everything,
    ],
    {},
  ],
};

async function openHttp(url) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function openStdio() {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: everything, cwd: root, stderr: 'ignore' }),
  );
  return client;
}

async function timedCalls(client, count, latencies) {
  for (let call = 0; call < count; call++) {
    const started = performance.now();
    await client.callTool({ name: 'echo', arguments: { message: `bench ${call}` } });
    latencies.push(performance.now() - started);
  }
}

function summary(latencies, elapsedMs) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (quantile) => sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))].toFixed(2);
  return { rate: ((latencies.length / elapsedMs) * 1000).toFixed(0), p50: at(0.5), p99: at(0.99) };
}

async function measure(open, rssNow) {
  const baseline = rssNow();
  const one = await open();
  await timedCalls(one, 20, []); // warm-up
  const sequential = [];
  let started = performance.now();
  await timedCalls(one, sequentialCalls, sequential);
  const single = summary(sequential, performance.now() - started);
  await one.close();
  const clients = await Promise.all(Array.from({ length: sessionCount }, open));
  await Promise.all(clients.map((client) => timedCalls(client, 5, [])));
  const rssPerSession = (rssNow() - baseline) / sessionCount;
  const concurrent = [];
  started = performance.now();
  await Promise.all(clients.map((client) => timedCalls(client, perSession, concurrent)));
  const many = summary(concurrent, performance.now() - started);
  await Promise.all(clients.map((client) => client.close()));
  return { single, many, rssPerSession };
}

const rows = [];
for (const [name, command] of Object.entries(bridges)) {
  const port = await freePort();
  const [bin, binArgs, env] = command(port);
  const child = spawn(bin, binArgs, {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  spawned.push(child);
  await waitForPort(port);
  await new Promise((resolve) => setTimeout(resolve, 500));
  rows.push([
    name,
    await measure(
      () => openHttp(`http://127.0.0.1:${port}/mcp`),
      () => treeRss(child.pid),
    ),
  ]);
  console.error(`measured ${name}`);
  child.kill('SIGTERM');
}
rows.push(['direct stdio (no bridge)', await measure(openStdio, () => treeRss(process.pid) - rssOf(process.pid))]);

const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `\n${sequentialCalls} sequential calls on 1 session; ${sessionCount} sessions × ${perSession} calls concurrently (node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n`,
);
console.log(
  '| target | 1 session calls/s | p50 ms | p99 ms | 16 sessions calls/s | p50 ms | p99 ms | RSS per session MiB |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, { single, many, rssPerSession }] of rows) {
  console.log(
    `| ${name} | ${single.rate} | ${single.p50} | ${single.p99} | ${many.rate} | ${many.p50} | ${many.p99} | ${mib(rssPerSession)} |`,
  );
}
process.exit(0);
