#!/usr/bin/env node
// Benchmark (not a test): `tools/call` of `echo` against echo-stateless (ours, built) and a bare SDK v2 server
// (bench/mcp/bare-sdk-v2.mjs) with the same tool, in both MCP eras, in one run.
// Usage: node bench/mcp/run.mjs [--duration 5] [--connections 1,32] [--cpu-prof DIR] [--baseline DIR]
//   (build first: npx nx run echo-stateless:build). Prints a Markdown table for docs/benchmarks.md.
// Each server runs pinned to CPU 1 (taskset), the load generator (autocannon, this process) to CPU 0. Requests are
// what the official SDK v2 client sends (pinned to 2026-07-28, or after the 2025 handshake); every answer is
// compared with the first one, byte for byte, so a wrong answer aborts the run. "CPU µs/req" is the server's user +
// system CPU time per request (/proc/<pid>/stat): the figure to trust on a busy machine.
// --cpu-prof DIR: echo-stateless writes a V8 CPU profile there when the run ends.
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { cpuSeconds, echoCall, freePort, loadAverage, option, pinned, root, start, stop, waitFor } from '../lib.mjs';

const duration = Number(option('duration', '5'));
const connectionsList = option('connections', '1,32').split(',').map(Number);
const cpuProfDir = option('cpu-prof', '');
const baselineDir = option('baseline', '');
const loadAtStart = loadAverage();

async function startServer(script, nodeArgs = [], scriptArgs = []) {
  const port = await freePort();
  const child = start(1, process.execPath, [...nodeArgs, script, ...scriptArgs], {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  });
  await waitFor(`http://127.0.0.1:${port}/`);
  return { child, url: `http://127.0.0.1:${port}/mcp` };
}

function requestOf(era) {
  const { headers, body } = echoCall(era);
  return { method: 'POST', headers: { ...headers, 'x-user-id': 'bench:1' }, body };
}

/** The SDK client gets the echo back in this era (the raw requests below are what it sends). */
async function sdkCheck(url, era) {
  const mode = era === 'modern' ? { pin: '2026-07-28' } : 'legacy';
  const client = new Client({ name: 'bench', version: '1' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const result = await client.callTool({ name: 'echo', arguments: { message: 'bench' } });
  await client.close();
  if (result.content?.[0]?.text !== 'bench') throw new Error(`${url} (${era}): ${JSON.stringify(result)}`);
}

async function measure(url, pid, era, connections) {
  const request = requestOf(era);
  const reference = await fetch(url, request);
  const expectBody = await reference.text();
  if (reference.status !== 200 || !expectBody.includes('"text":"bench"'))
    throw new Error(`${url} (${era}): ${reference.status} ${expectBody}`);
  const options = { url, ...request, connections, expectBody };
  await autocannon({ ...options, duration: 1 }); // warm-up
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({ ...options, duration });
  const cpu = cpuSeconds(pid) - cpuBefore;
  if (result.non2xx > 0 || result.errors > 0 || result.mismatches > 0)
    throw new Error(`${url} (${era}): ${result.non2xx} non-2xx, ${result.errors} errors, ${result.mismatches} wrong`);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: (cpu / result.requests.total) * 1e6,
  };
}

const ours = await startServer(
  join(root, 'dist/apps/echo-stateless/src/main.js'),
  cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [],
);
const bare = await startServer(join(root, 'bench/mcp/bare-sdk-v2.mjs'));
const targets = [['echo-stateless (this checkout)', ours]];
// The SDK's ceiling: the bare server with its tool definition built once (nothing but the SDK per request).
const floor = await startServer(join(root, 'bench/mcp/bare-sdk-v2.mjs'), [], ['--once']);
targets.push(['SDK v2, definition built once', floor]);
// --baseline DIR: also the built echo-stateless of another checkout (e.g. main), to compare before and after.
if (baselineDir)
  targets.push([
    `echo-stateless (${baselineDir})`,
    await startServer(join(baselineDir, 'dist/apps/echo-stateless/src/main.js')),
  ]);
targets.push(['bare SDK v2', bare]);
for (const [, { url }] of targets) for (const era of ['modern', 'legacy']) await sdkCheck(url, era);

const ERA_NAMES = { modern: '2026-07-28', legacy: '2025-11-25' };
const rows = [];
for (const connections of connectionsList) {
  for (const era of ['modern', 'legacy']) {
    // Every target in turn within one cell, so that they meet the same machine.
    const results = [];
    for (const [name, { url, child }] of targets) results.push([name, await measure(url, child.pid, era, connections)]);
    const reference = results.at(-1)[1];
    for (const [name, result] of results) rows.push({ name, connections, era, result, reference });
    process.stderr.write(`measured ${ERA_NAMES[era]} at ${connections} connections\n`);
  }
}
if (cpuProfDir) await stop(ours.child);

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
console.log(
  `\ntools/call echo; ${duration} s per cell after 1 s warm-up; Node ${process.version}; pinned=${pinned}; ` +
    `load average ${loadAtStart} at the start, ${loadAverage()} at the end\n`,
);
console.log('| era | connections | server | req/s | p50 ms | p99 ms | CPU µs/req | req/s ÷ bare | CPU bare ÷ this |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const { name, connections, era, result: r, reference: b } of rows) {
  console.log(
    `| ${ERA_NAMES[era]} | ${connections} | ${name} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${fmt(r.cpuUs)} | ${ratio(r.rps, b.rps)} | ${ratio(b.cpuUs, r.cpuUs)} |`,
  );
}
if (cpuProfDir) console.log(`\nCPU profile of echo-stateless written to ${cpuProfDir}`);
process.exit(0);
