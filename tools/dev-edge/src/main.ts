/**
 * The dev edge (`npx nx run dev-edge:serve`, started by `npm start`): Traefik's job on one machine.
 *   node dist/tools/dev-edge/src/main.js [--config tmp/gateway/dynamic.yml]
 * It reads the dynamic configuration tools/gateway-config wrote for this environment and listens on the port
 * of the public origin (PUBLIC_URL in path mode, BASE_DOMAIN's port in subdomain mode), on HOST.
 */
import { resolveTopology } from '@gateway/catalog';
import { loadRawEnv } from '@gateway/config';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createEdge } from './lib/edge';
import { balancersOf, loadDynamicConfig, routingTable } from './lib/routing-table';

const root = resolve(__dirname, '../../../..');
const configIndex = process.argv.indexOf('--config');
const file = resolve(root, configIndex > 0 ? (process.argv[configIndex + 1] ?? '') : 'tmp/gateway/dynamic.yml');

try {
  if (!existsSync(file))
    throw new Error(`${file} is missing: run npx nx run gateway-config:local (npm start does it for you)`);
  const env = loadRawEnv();
  const publicUrl = new URL(resolveTopology(env).issuer);
  const port = Number(publicUrl.port || (publicUrl.protocol === 'https:' ? 443 : 80));
  const host = env['HOST'] || '127.0.0.1';
  const table = routingTable(loadDynamicConfig(file));
  for (const balancer of balancersOf(table)) {
    balancer.onChange = (server, healthy, problem) =>
      console.error(
        healthy
          ? `dev-edge: ${server} passes its health check again`
          : `dev-edge: ${server} fails its health check (${problem}); it gets no new request until it passes`,
      );
    balancer.start();
  }
  const server = createEdge(table, {
    onError: (error, request) => console.error(`dev-edge: ${request.method} ${request.url}: ${error.message}`),
  });
  server.listen(port, host, () =>
    console.log(`dev-edge: ${table.length} routers from ${file}, listening on http://${host}:${port}`),
  );
  // SIGTERM/SIGINT: stop accepting, let requests in flight (event streams too) end within SHUTDOWN_TIMEOUT seconds.
  const shutdownSeconds = Number(env['SHUTDOWN_TIMEOUT'] || 10);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log(`dev-edge: draining (at most ${shutdownSeconds} s)`);
    void server.drain(shutdownSeconds * 1000).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  console.error(`dev-edge: ${(error as Error).message}`);
  process.exit(1);
}
