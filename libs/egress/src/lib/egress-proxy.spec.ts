import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type ConnectGuard, installConnectGuard } from '../test/connect-guard';
import { AddressPolicy } from './address-policy';
import { type EgressProxy, startEgressProxy } from './egress-proxy';

/** Names as a DNS answer would give them; nothing here asks a real DNS server. */
const RECORDS: Record<string, string[]> = {
  'allowed.test': ['127.0.0.1'],
  'auth.test': ['127.0.0.1'], // a compose service name: internal
  'metadata.test': ['169.254.169.254'],
  'redis.test': ['10.0.0.5'],
  'mixed.test': ['93.184.216.34', '10.0.0.7'],
};

interface Answer {
  status: number;
  proxyStatus?: string;
  body: string;
}

describe('the egress proxy', () => {
  let guard: ConnectGuard;
  let site: Server;
  let sitePort: number;
  let hits: string[];
  let proxy: EgressProxy;
  const audit: { host: string; status: number }[] = [];

  beforeAll(async () => {
    guard = installConnectGuard();
    hits = [];
    site = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end(`secret of ${req.url}`);
    });
    site.listen(0, '127.0.0.1');
    await once(site, 'listening');
    sitePort = (site.address() as AddressInfo).port;
    proxy = await startEgressProxy(
      {
        policy: new AddressPolicy({
          allow: [`allowed.test:${sitePort}`],
          deny: [],
          names: { allow: 'EGRESS_ALLOW', deny: 'EGRESS_DENY', who: 'the egress proxy' },
        }),
        resolver: {
          resolve: async (host) => {
            const addresses = RECORDS[host] ?? (/^[\d.]+$|:/.test(host) ? [host] : undefined);
            if (!addresses) throw new Error(`NXDOMAIN ${host}`);
            return addresses;
          },
        },
        connectTimeoutMs: 2_000,
        idleTimeoutMs: 5_000,
        audit: (line) => audit.push(line),
      },
      { host: '127.0.0.1', port: 0 },
    );
  });

  afterAll(async () => {
    await proxy.close();
    site.close();
    guard.restore();
  });

  afterEach(() => expect(guard.violations).toEqual([]));

  /** A CONNECT (what Node's env proxy, curl and browsers send for https, and Node for http too). */
  const tunnel = (authority: string, then?: (socket: Socket) => Promise<string>): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: authority });
      req.on('connect', (res, socket: Socket, head: Buffer) => {
        const status = res.statusCode ?? 0;
        if (status !== 200 || !then) {
          let body = head.toString();
          socket.on('data', (chunk: Buffer) => (body += chunk.toString()));
          socket.on('end', () => resolve({ status, proxyStatus: res.headers['proxy-status'] as string, body }));
          socket.on('error', reject);
          if (status === 200) socket.end();
          return;
        }
        then(socket).then((body) => resolve({ status, body }), reject);
      });
      req.on('error', reject);
      req.end();
    });

  /** An absolute-form request (plain http through a proxy: curl, Python). */
  const absolute = (url: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, method: 'GET', path: url }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, proxyStatus: res.headers['proxy-status'] as string, body }),
        );
      });
      req.on('error', reject);
      req.end();
    });

  it('tunnels to an allowed destination, connecting to the address it checked', async () => {
    const answer = await tunnel(`allowed.test:${sitePort}`, async (socket) => {
      socket.write(`GET /through-tunnel HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n`);
      let text = '';
      for await (const chunk of socket) text += (chunk as Buffer).toString();
      return text;
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('secret of /through-tunnel');
    expect((await absolute(`http://allowed.test:${sitePort}/plain`)).body).toBe('secret of /plain');
  });

  it.each([
    ['loopback by address', () => `127.0.0.1:${sitePort}`, /loopback address/],
    ['loopback by another spelling', () => `127.1.2.3:${sitePort}`, /loopback address/],
    ['IPv6 loopback', () => `[::1]:${sitePort}`, /loopback address/],
    ['a service name resolving to loopback', () => `auth.test:${sitePort}`, /loopback address/],
    ['cloud metadata', () => 'metadata.test:80', /link-local address/],
    ['cloud metadata by address', () => '169.254.169.254:80', /link-local address/],
    ['a private network (Redis in compose)', () => 'redis.test:6379', /private network/],
    ['a name with one public and one private address', () => 'mixed.test:443', /private network/],
    ['the allowed name on another port', () => `allowed.test:${sitePort + 1}`, /loopback address/],
  ])('refuses %s with 403 and Proxy-Status, before connecting', async (_, authority, reason) => {
    const before = hits.length;
    const answer = await tunnel(authority());
    expect(answer.status).toBe(403);
    expect(answer.proxyStatus).toMatch(/^egress; error=destination_ip_prohibited; details=".*"$/);
    expect(answer.body).toMatch(reason);
    expect(answer.body).toMatch(/the egress proxy reaches only public addresses unless EGRESS_ALLOW lists them/);
    const plain = await absolute(`http://${authority()}/x`);
    expect(plain.status).toBe(403);
    expect(plain.body).toMatch(reason);
    expect(hits.length).toBe(before);
  });

  it('refuses a malformed CONNECT target and an https absolute-form request with 400', async () => {
    expect((await tunnel('no-port')).status).toBe(400);
    expect((await tunnel('host:0')).status).toBe(400);
    expect((await absolute(`https://allowed.test:${sitePort}/`)).status).toBe(400);
    expect((await absolute('/not-absolute')).status).toBe(400);
  });

  it('answers 502 when the destination cannot be resolved', async () => {
    const answer = await tunnel('unknown.test:443');
    expect(answer.status).toBe(502);
    expect(answer.proxyStatus).toMatch(/destination_unavailable/);
  });

  it('writes one audit line per decision', () => {
    expect(audit).toContainEqual(expect.objectContaining({ host: 'metadata.test', port: 80, status: 403 }));
    expect(audit).toContainEqual(expect.objectContaining({ host: 'allowed.test', status: 200 }));
  });
});
