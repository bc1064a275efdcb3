import { Logger } from '@nestjs/common';
import { type McpExchange, refuse, registerMcpRoute } from '@gateway/mcp-session';
import { createServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { PEER_HEADER, PeerForwarder, PeerSigner } from './peer-forward';

const SECRET = 'a'.repeat(64);
const logger = new Logger('test');

/** An exchange as the route builds it, for the signer (which reads method, headers and the raw body). */
const exchangeOf = (headers: Record<string, string>, body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}') =>
  ({ request: { method: 'POST', headers, body } }) as unknown as McpExchange;

describe('PeerSigner', () => {
  const headers = { 'x-user-id': 'github:42', 'x-scope': 'mcp', 'mcp-session-id': 's1' };
  const a = new PeerSigner(SECRET, 'a');
  const b = new PeerSigner(SECRET, 'b');

  it('accepts a forward addressed to it, signed with the shared secret', () => {
    expect(b.check(a.sign('b', exchangeOf(headers)), exchangeOf(headers))).toBeUndefined();
  });

  it('refuses it when anything it binds changed', () => {
    const signed = a.sign('b', exchangeOf(headers));
    expect(b.check(signed, exchangeOf({ ...headers, 'x-user-id': 'github:43' }))).toBe('bad signature');
    expect(b.check(signed, exchangeOf({ ...headers, 'x-scope': 'mcp admin' }))).toBe('bad signature');
    expect(b.check(signed, exchangeOf({ ...headers, 'mcp-session-id': 's2' }))).toBe('bad signature');
    expect(b.check(signed, exchangeOf(headers, '{"jsonrpc":"2.0","id":1,"method":"tools/call"}'))).toBe(
      'bad signature',
    );
    expect(new PeerSigner('b'.repeat(64), 'b').check(signed, exchangeOf(headers))).toBe('bad signature');
  });

  it('refuses one addressed to another replica, a stale one and a malformed one', () => {
    expect(a.check(a.sign('b', exchangeOf(headers)), exchangeOf(headers))).toBe('addressed to another replica');
    const old = a.sign('b', exchangeOf(headers), Date.now() - 31_000);
    expect(b.check(old, exchangeOf(headers))).toBe('expired');
    expect(b.check('v1.a.b.notatime.mac', exchangeOf(headers))).toBe('expired');
    expect(b.check('forged', exchangeOf(headers))).toBe('malformed');
    expect(b.check(`${a.sign('b', exchangeOf(headers))}.x`, exchangeOf(headers))).toBe('malformed');
  });
});

describe('PeerForwarder', () => {
  let owner: FastifyInstance;
  let front: FastifyInstance;
  let ownerUrl: string;
  let frontUrl: string;
  let outcomes: string[];

  /** An MCP route whose handler answers with what reached it, or forwards to `target`. */
  const serve = async (handle: (exchange: McpExchange) => Promise<void>) => {
    const app = Fastify();
    registerMcpRoute(app, { allowedOrigins: [], maxBodyBytes: 1 << 20, logger, handle });
    return { app, url: await app.listen({ port: 0, host: '127.0.0.1' }) };
  };

  beforeAll(async () => {
    const ownerSigner = new PeerSigner(SECRET, 'owner');
    ({ app: owner, url: ownerUrl } = await serve(async (exchange) => {
      const problem = ownerSigner.check(String(exchange.request.headers[PEER_HEADER]), exchange);
      if (problem) return refuse(exchange.reply, 403, problem);
      if (exchange.request.method === 'GET') {
        // An SSE stream, written in two parts: the forward relays each as it comes.
        exchange.reply.hijack();
        exchange.reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
        exchange.reply.raw.write('data: one\n\n');
        setTimeout(() => exchange.reply.raw.end('data: two\n\n'), 50);
        return;
      }
      await exchange.reply
        .code(200)
        .header('mcp-session-id', 's1')
        .send({ user: exchange.identity?.userId, accept: exchange.request.headers.accept, body: exchange.body });
    }));
    const forwarder = new PeerForwarder(new PeerSigner(SECRET, 'front'), logger);
    // A port nothing listens on: bound once, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    ({ app: front, url: frontUrl } = await serve(async (exchange) => {
      const target = exchange.request.headers['x-target'] === 'dead' ? `http://127.0.0.1:${deadPort}` : ownerUrl;
      const outcome = await forwarder.forward(exchange, { id: 'owner', url: target });
      outcomes.push(outcome);
      if (outcome === 'unreachable') await refuse(exchange.reply, 404, 'Session not found', -32001);
    }));
  });
  beforeEach(() => (outcomes = []));
  afterAll(async () => {
    await front?.close();
    await owner?.close();
  });

  it('relays a request with its identity and body, and the answer with its status and headers', async () => {
    const response = await fetch(`${frontUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-user-id': 'github:42' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBe('s1');
    // A JSON-only client stays one for the owner (the route rewrote its Accept to list both types).
    expect(await response.json()).toEqual({
      user: 'github:42',
      accept: 'application/json, text/event-stream',
      body: { jsonrpc: '2.0', id: 7, method: 'tools/list' },
    });
    expect(outcomes).toEqual(['forwarded']);
  });

  it('streams an SSE answer as the owner writes it', async () => {
    const response = await fetch(`${frontUrl}/mcp`, { headers: { accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe('data: one\n\ndata: two\n\n');
  });

  it('says so when the owner cannot be reached, and sends nothing', async () => {
    const response = await fetch(`${frontUrl}/mcp`, { headers: { accept: 'text/event-stream', 'x-target': 'dead' } });
    expect(response.status).toBe(404);
    expect(outcomes).toEqual(['unreachable']);
  });

  it('a client cannot pose as a peer: the owner refuses a forward it did not sign', async () => {
    const response = await fetch(`${ownerUrl}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-user-id': 'github:42',
        [PEER_HEADER]: `v1.front.owner.${Date.now()}.forged`,
      },
      body: '{}',
    });
    expect(response.status).toBe(403);
  });
});
