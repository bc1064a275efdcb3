#!/usr/bin/env node
// Measurement (not a test) for docs/stdio-proxy.md "Capacity": the resident memory (RSS) of one child of each
// catalog stdio server after initialize + tools/list, as the proxy's memory budget samples it (/proc VmRSS of
// the child and its descendants), and of the proxy itself. Linux only (reads /proc).
// Usage: node bench/stdio-proxy/capacity.mjs [--sessions 4]   (build first: npx nx run stdio-proxy:build)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const index = process.argv.indexOf('--sessions');
const sessions = Number(index > 0 ? process.argv[index + 1] : 4);
const dir = mkdtempSync(join(tmpdir(), 'capacity-'));
const mib = (kib) => (kib / 1024).toFixed(1);
const rssKib = (pid) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const childrenOf = (pid) => {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map(Number)
      .filter(Boolean);
  } catch {
    return [];
  }
};
const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const rows = [];
for (const [service, per] of [
  ['everything', 'session'],
  ['memory', 'session'],
  ['memory', 'user'],
  ['filesystem', 'session'],
  ['sequential-thinking', 'session'],
]) {
  const port = await freePort();
  const proxy = spawn(process.execPath, [join(root, 'dist/apps/stdio-proxy/src/main.js')], {
    cwd: root,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      MCP_SERVICE: service,
      STDIO_CHILD_PER: per,
      MCP_DATA_DIR: dir,
      MCP_WORKSPACE_DIR: dir,
      STDIO_MAX_CHILDREN_PER_USER: '100',
    },
  });
  for (let attempt = 0; attempt < 200; attempt++) {
    if (
      await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.ok,
        () => false,
      )
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const idle = rssKib(proxy.pid);
  const clients = [];
  for (let count = 0; count < sessions; count++) {
    const client = new Client({ name: 'capacity', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    await client.listTools();
    clients.push(client);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const children = childrenOf(proxy.pid).map(rssKib);
  rows.push({
    service,
    per,
    sessions,
    children: children.length,
    perChild: children.reduce((a, b) => a + b, 0) / children.length,
    total: children.reduce((a, b) => a + b, 0),
    proxyIdle: idle,
    proxy: rssKib(proxy.pid),
  });
  await Promise.all(clients.map((client) => client.close()));
  proxy.kill('SIGTERM');
  await new Promise((resolve) => proxy.once('exit', resolve));
}
rmSync(dir, { recursive: true, force: true });
console.log(
  `| server | child per | sessions | children | RSS per child MiB | children total MiB | proxy RSS MiB (idle → with sessions) |`,
);
console.log('|---|---|---|---|---|---|---|');
for (const row of rows)
  console.log(
    `| ${row.service} | ${row.per} | ${row.sessions} | ${row.children} | ${mib(row.perChild)} | ${mib(row.total)} | ${mib(row.proxyIdle)} → ${mib(row.proxy)} |`,
  );
