import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/**
 * A local HTTPS server on loopback that publishes client metadata documents and JWK Sets, with a throwaway
 * self-signed certificate for `localhost` (made by the openssl CLI). auth trusts it only because the test passes
 * the certificate as CLIENT_FETCH_CA_FILE and allows `localhost` with CLIENT_FETCH_ALLOW_HOSTS.
 */
export class DocumentServer {
  private constructor(
    /** Path → JSON body and headers; edit between tests. */
    public readonly routes: Map<string, { body: unknown; headers?: Record<string, string> }>,
    /** Paths requested, in order. */
    public readonly requests: string[],
    public readonly origin: string,
    public readonly caFile: string,
    private readonly dir: string,
    private readonly servers: Server[],
  ) {}

  public static async start(): Promise<DocumentServer> {
    const dir = mkdtempSync(join(tmpdir(), 'cimd-e2e-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const port = await freePort();
    const routes = new Map<string, { body: unknown; headers?: Record<string, string> }>();
    const requests: string[] = [];
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const path = req.url ?? '/';
      requests.push(path);
      const route = routes.get(path);
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', ...route.headers }).end(JSON.stringify(route.body));
    };
    const tls = { key: readFileSync(key), cert: readFileSync(cert) };
    const servers: Server[] = [];
    // `localhost` may resolve to 127.0.0.1 or ::1: listen on both loopback addresses (never on a public one).
    for (const host of ['127.0.0.1', '::1']) {
      const server = createServer(tls, handler);
      const listening = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, host, () => resolve(true));
      });
      if (listening) servers.push(server);
    }
    return new DocumentServer(routes, requests, `https://localhost:${port}`, cert, dir, servers);
  }

  public url(path: string): string {
    return `${this.origin}${path}`;
  }

  public async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
