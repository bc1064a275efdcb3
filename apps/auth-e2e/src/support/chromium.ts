import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
export { launchChromium } from '@gateway/testing';

/** The OAuth client's redirect target: a local page that records the query it was called with. */
export class RedirectCatcher {
  public readonly received: URLSearchParams[] = [];
  private server?: Server;
  public url = '';

  public async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      this.received.push(url.searchParams);
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>client</title><p id="done">back at the client</p>');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/callback`;
    return this;
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
