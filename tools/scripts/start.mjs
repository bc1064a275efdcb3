#!/usr/bin/env node
// `npm start`: builds, then runs auth and every enabled MCP service on this machine, each on its
// catalog port, with memory storage unless REDIS_URL is set. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const nx = join(root, 'node_modules/nx/bin/nx.js');

const build = spawnSync(process.execPath, [nx, 'run-many', '-t', 'build', '--output-style=static'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, NX_NO_CLOUD: 'true' },
});
if (build.status !== 0) process.exit(build.status ?? 1);

const { loadRawEnv } = require(join(root, 'dist/libs/config/src'));
const { resolveTopology } = require(join(root, 'dist/libs/catalog/src'));
let topology;
try {
  topology = resolveTopology(loadRawEnv());
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

const processes = [{ name: 'auth', app: 'auth', port: 3000 }];
for (const service of topology.enabled) {
  processes.push({ name: service.name, app: service.app, port: service.port, env: service.kind === 'stdio' ? { MCP_SERVICE: service.name } : {} });
}

const children = processes.map(({ name, app, port, env = {} }) => {
  const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist/apps', app, 'src/main.js')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env, PORT: String(port) },
  });
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}); stopping the gateway`);
    stopAll();
  });
  return child;
});

let stopping = false;
function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

console.log(`\nMCP OAuth Gateway (${topology.mode} routing), issuer ${topology.issuer}`);
for (const service of topology.enabled) console.log(`  ${service.name.padEnd(22)} ${service.mcpUrl}`);
console.log('Ctrl-C stops everything.\n');
