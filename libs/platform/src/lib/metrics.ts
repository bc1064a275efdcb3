import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, register } from 'prom-client';

/**
 * Prometheus metrics (prom-client, the Node client Prometheus lists): one registry per process, served on its
 * own port (METRICS_PORT) that the generated Traefik configuration never routes and compose never publishes,
 * so nothing about the gateway's internals is public (docs/operations.md).
 */

/** A counter registered once per process (a module loaded twice, as in tests, gets the same one back). */
export function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames });
}

/** A gauge registered once per process; `collect` runs at every scrape. */
export function gauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  collect?: (this: Gauge<L>) => void | Promise<void>,
): Gauge<L> {
  return (
    (register.getSingleMetric(name) as Gauge<L> | undefined) ??
    new Gauge({ name, help, labelNames, ...(collect ? { collect } : {}) })
  );
}

/** A histogram registered once per process (seconds buckets fit HTTP and storage latencies). */
export function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
): Histogram<L> {
  return (
    (register.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, labelNames, buckets })
  );
}

const START = Symbol('metrics:start');

/**
 * HTTP request counts and durations by route template (never the raw URL: it would let clients create
 * series at will), method and status, for every route of the Fastify instance, Nest's and plain ones.
 */
export function instrumentHttp(fastify: FastifyInstance): void {
  const requests = counter('http_requests_total', 'HTTP requests answered', ['method', 'route', 'status']);
  const durations = histogram('http_request_duration_seconds', 'HTTP request duration', ['method', 'route', 'status']);
  fastify.addHook('onRequest', (request, _reply, done) => {
    (request as unknown as Record<symbol, bigint>)[START] = process.hrtime.bigint();
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const started = (request as unknown as Record<symbol, bigint | undefined>)[START];
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    if (started !== undefined) durations.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    done();
  });
}

/** `GET /metrics` in the Prometheus text format on its own port; anything else is 404. */
export async function serveMetrics(port: number, host: string): Promise<Server> {
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at GET /metrics\n');
      return;
    }
    register.metrics().then(
      (text) => response.writeHead(200, { 'content-type': register.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
