import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DocumentFetchFailed, GuardedDocumentFetcher } from './document-fetcher';

/**
 * The guard of @gateway/egress as auth configures it. Every target here is loopback (`localhost` comes from
 * /etc/hosts): a listener counts the connections it gets, so a refusal is proven to happen before connecting.
 * CLIENT_FETCH_DNS_SERVERS is exercised with a DNS stub in apps/gateway-e2e/src/profiles.e2e-spec.ts.
 */
describe('GuardedDocumentFetcher', () => {
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('{}'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const fetcher = (allowHosts: string[] = []) =>
    new GuardedDocumentFetcher({
      timeoutMs: 2000,
      maxBytes: 1024,
      maxRedirects: 3,
      allowHosts,
    });

  it('refuses a name that resolves to a non-public address, without connecting, naming the key that allows it', async () => {
    const before = connections;
    const failure = fetcher().fetchJson(`https://localhost:${port}/client.json`);
    await expect(failure).rejects.toThrow(DocumentFetchFailed);
    await expect(failure).rejects.toThrow(/not public \(loopback address\).*CLIENT_FETCH_ALLOW_HOSTS/);
    expect(connections).toBe(before);
  });

  it('refuses a literal loopback address the same way', async () => {
    const before = connections;
    await expect(fetcher().fetchJson(`https://127.0.0.1:${port}/client.json`)).rejects.toThrow(/not public/);
    expect(connections).toBe(before);
  });

  it('connects to an allowed host (then fails the TLS handshake: the listener speaks plain HTTP)', async () => {
    const before = connections;
    await expect(fetcher(['localhost']).fetchJson(`https://localhost:${port}/client.json`)).rejects.toThrow(
      DocumentFetchFailed,
    );
    expect(connections).toBe(before + 1);
  });

  it('refuses plain http before resolving anything', async () => {
    await expect(fetcher().fetchJson(`http://localhost:${port}/client.json`)).rejects.toThrow(/https only/);
  });
});
