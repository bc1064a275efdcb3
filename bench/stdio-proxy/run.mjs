#!/usr/bin/env node
// Benchmark (not a test): `tools/call` of server-everything's `echo` through our stdio-proxy, supergateway --stateful
// and mcp-proxy (npm), each wrapping the same stdio server, and a direct stdio client, in one run.
// Usage: node bench/stdio-proxy/run.mjs [--calls 200] [--sessions 16] [--per-session 25]
//   (build first: npx nx run stdio-proxy:build). Prints a Markdown table for docs/benchmarks.md.
// Bridges and wrapped servers run pinned to CPU 1 (taskset), the client (this process) to CPU 0; the direct row's
// server too. Client and bridges share the machine, so figures are relative: the overhead columns compare each
// bridge with the direct stdio client of the same run. RSS per session = (bridge + all its descendants' RSS with N
// sessions open − the bridge alone before any session) / N; private per session is the same sum of the pages each
// process holds alone (RSS also counts the shared Node.js binary once per process, so it overstates a child's cost). Our proxy runs twice: a child per session, and a child
// per user (STDIO_CHILD_PER=user: all N sessions are one user's, so its RSS per session is the cost of one more
// session of a user who already has a child).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, loadAverage, option, pinned, root, start } from '../lib.mjs';

const sequentialCalls = Number(option('calls', '200'));
const sessionCount = Number(option('sessions', '16'));
const perSession = Number(option('per-session', '25'));
const everything = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const loadAtStart = loadAverage();

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

/**
 * Memory of one process in bytes: `rss` (resident, counting the pages it shares with other processes, e.g. the Node.js
 * binary every bridge and child maps) and `private` (the pages only it holds: what it costs the machine on top of the
 * others; /proc/<pid>/smaps_rollup, Linux 4.14+).
 */
function memoryOf(pid) {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    return { rss: kib('Rss'), private: kib('Private_Clean') + kib('Private_Dirty') };
  } catch {
    return { rss: 0, private: 0 }; // exited meanwhile (e.g. the ps that listed it)
  }
}
const sum = (pids) =>
  pids.map(memoryOf).reduce((total, each) => ({ rss: total.rss + each.rss, private: total.private + each.private }), {
    rss: 0,
    private: 0,
  });
const treeMemory = (pid) => sum([pid, ...descendants(pid)]);

// The catalog's `everything` has `egress: internet` (a tool fetches URLs): each child runs in its own network namespace
// whose only way out is a relay process (netns-relay.ts) to the egress proxy. `isolation: 'none'` wraps the same
// server as an explicit STDIO_COMMAND with STDIO_EGRESS=none (a namespace with no way out, no relay), to show what
// the relay costs; neither supergateway nor mcp-proxy isolates the server's network.
const ours =
  (childPer, isolation = 'internet') =>
  (port) => [
    process.execPath,
    [join(root, 'dist/apps/stdio-proxy/src/main.js')],
    {
      PORT: String(port),
      MCP_SERVICE: 'everything',
      ...(isolation === 'none'
        ? { STDIO_COMMAND: process.execPath, STDIO_ARGS: everything.join(' '), STDIO_EGRESS: 'none', STDIO_CWD: root }
        : {}),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      STDIO_CHILD_PER: childPer,
      STDIO_MAX_CHILDREN: '100',
      STDIO_MAX_CHILDREN_PER_USER: '100',
      STDIO_MEMORY_BUDGET_MB: '0',
    },
  ];
const bridges = {
  'stdio-proxy (ours), a child per session': ours('session'),
  'stdio-proxy (ours), a child per user': ours('user'),
  'stdio-proxy (ours), a child per session, egress none (no relay)': ours('session', 'none'),
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
  // One user for every session (the identity header the edge would add).
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { 'x-user-id': 'bench:1' } } }),
  );
  return client;
}

async function openStdio() {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const [command, args] = pinned
    ? ['taskset', ['-c', '1', process.execPath, ...everything]]
    : [process.execPath, everything];
  await client.connect(new StdioClientTransport({ command, args, cwd: root, stderr: 'ignore' }));
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

async function measure(open, memoryNow) {
  const baseline = memoryNow();
  const one = await open();
  await timedCalls(one, 20, []); // warm-up
  const sequential = [];
  let started = performance.now();
  await timedCalls(one, sequentialCalls, sequential);
  const single = summary(sequential, performance.now() - started);
  await one.close();
  const clients = await Promise.all(Array.from({ length: sessionCount }, open));
  await Promise.all(clients.map((client) => timedCalls(client, 5, [])));
  const opened = memoryNow();
  const perSessionMemory = {
    rss: (opened.rss - baseline.rss) / sessionCount,
    private: (opened.private - baseline.private) / sessionCount,
  };
  const concurrent = [];
  started = performance.now();
  await Promise.all(clients.map((client) => timedCalls(client, perSession, concurrent)));
  const many = summary(concurrent, performance.now() - started);
  await Promise.all(clients.map((client) => client.close()));
  return { single, many, perSessionMemory };
}

const rows = [];
for (const [name, command] of Object.entries(bridges)) {
  const port = await freePort();
  const [bin, binArgs, env] = command(port);
  const child = start(1, bin, binArgs, env);
  await waitForPort(port);
  await new Promise((resolve) => setTimeout(resolve, 500));
  rows.push([
    name,
    await measure(
      () => openHttp(`http://127.0.0.1:${port}/mcp`),
      () => treeMemory(child.pid),
    ),
  ]);
  console.error(`measured ${name}`);
  child.kill('SIGTERM');
}
rows.push(['direct stdio (no bridge)', await measure(openStdio, () => sum(descendants(process.pid)))]);

const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const direct = rows.at(-1)[1];
const over = (value, base) => (Number(value) - Number(base)).toFixed(2);
const share = (value, base) => `${((Number(value) / Number(base)) * 100).toFixed(0)}%`;
console.log(
  `\n${sequentialCalls} sequential calls on 1 session; ${sessionCount} sessions × ${perSession} calls concurrently; ` +
    `node ${process.version}, ${new Date().toISOString().slice(0, 10)}; pinned=${pinned}; ` +
    `load average ${loadAtStart} at the start, ${loadAverage()} at the end\n`,
);
console.log(
  `| target | 1 session calls/s | p50 ms | p99 ms | ${sessionCount} sessions calls/s | p50 ms | p99 ms | RSS per session MiB | private per session MiB | ` +
    `1 session: calls/s of direct, p50 added ms | ${sessionCount} sessions: calls/s of direct, p50 added ms |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [name, { single, many, perSessionMemory }] of rows) {
  const overhead =
    name === rows.at(-1)[0]
      ? '- | -'
      : `${share(single.rate, direct.single.rate)}, +${over(single.p50, direct.single.p50)} | ` +
        `${share(many.rate, direct.many.rate)}, +${over(many.p50, direct.many.p50)}`;
  console.log(
    `| ${name} | ${single.rate} | ${single.p50} | ${single.p99} | ${many.rate} | ${many.p50} | ${many.p99} | ${mib(perSessionMemory.rss)} | ${mib(perSessionMemory.private)} | ${overhead} |`,
  );
}
process.exit(0);
