// The edge's load balancer over real sockets: round robin, health checks, and the dead server left out.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Balancer, durationMs } from './balancer';
import { createEdge } from './edge';
import { balancersOf, routingTable } from './routing-table';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

/** A replica that names itself, and whose /readyz can be switched to 503. */
function replica(name: string) {
  const state = { ready: true };
  const server = createServer((req, res) => {
    if (req.url === '/readyz') res.writeHead(state.ready ? 200 : 503).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  });
  return { server, state };
}

describe('Balancer', () => {
  it('turns round robin over its servers', () => {
    const balancer = new Balancer(['http://a', 'http://b', 'http://c']);
    expect(Array.from({ length: 6 }, () => balancer.next())).toEqual([
      'http://a',
      'http://b',
      'http://c',
      'http://a',
      'http://b',
      'http://c',
    ]);
  });

  it('leaves out a server whose health check fails, takes it back when it passes, and has none when all fail', async () => {
    const a = replica('a');
    const b = replica('b');
    const urls = [await listen(a.server), await listen(b.server)];
    const balancer = new Balancer(urls, { path: '/readyz', timeout: '1s' });
    const changes: string[] = [];
    balancer.onChange = (server, healthy, problem) => changes.push(`${server} ${healthy ? 'up' : `down: ${problem}`}`);
    try {
      b.state.ready = false;
      await balancer.checkAll();
      await balancer.checkAll(); // still down: told once
      expect(balancer.healthy()).toEqual([urls[0]]);
      expect(changes).toEqual([`${urls[1]} down: status 503`]);
      expect([balancer.next(), balancer.next(), balancer.next()]).toEqual([urls[0], urls[0], urls[0]]);

      b.state.ready = true;
      await balancer.checkAll();
      expect(balancer.healthy()).toEqual(urls);
      expect(changes.at(-1)).toBe(`${urls[1]} up`);

      await close(a.server); // no answer at all counts as failing
      b.state.ready = false;
      await balancer.checkAll();
      expect(balancer.next()).toBeUndefined();
    } finally {
      for (const server of [a.server, b.server]) if (server.listening) await close(server);
    }
  });

  it('reads Traefik durations and refuses others', () => {
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('2s')).toBe(2000);
    expect(durationMs('1m')).toBe(60_000);
    expect(() => durationMs('1h30m')).toThrow(/unsupported duration/);
  });
});

describe('the edge with several servers per service', () => {
  it('spreads requests over the replicas and answers 503 when none is healthy', async () => {
    const a = replica('a');
    const b = replica('b');
    const servers = [{ url: await listen(a.server) }, { url: await listen(b.server) }];
    const table = routingTable({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 's' }, q: { rule: 'Path(`/q`)', service: 's' } },
        services: { s: { loadBalancer: { servers, healthCheck: { path: '/readyz', interval: '1m' } } } },
      },
    });
    expect(balancersOf(table)).toHaveLength(1); // both routers share the service's balancer
    const edge = createEdge(table);
    const url = await listen(edge);
    try {
      const names = [];
      for (let index = 0; index < 4; index++) names.push(await (await fetch(`${url}/x`)).text());
      expect(names).toEqual(['a', 'b', 'a', 'b']);

      a.state.ready = false;
      b.state.ready = false;
      await balancersOf(table)[0]?.checkAll();
      const none = await fetch(`${url}/x`);
      expect(none.status).toBe(503);
      expect(await none.text()).toBe('no available server\n');
    } finally {
      edge.closeAllConnections();
      for (const server of [edge, a.server, b.server]) await close(server);
    }
  });
});
