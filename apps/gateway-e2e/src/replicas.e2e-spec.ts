// Two replicas each of auth, echo-stateful and fetchs behind the dev edge, on one real Redis: what one replica
// writes (clients, consents, tokens, revocations, rate-limit counters, MCP sessions) the other reads, and stopping
// one replica loses only the requests it was serving. auth and fetchs run as `npm start --replicas` runs them
// (start.mjs, comma-listed upstreams); echo-stateful's two replicas are started here, so that one can be stopped.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, initializeRequest, postMcp, type ServiceProcess, startService } from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { completeAuthorization, connectWithOAuth, type TestOAuthProvider } from './support/oauth-client';

const REDIS_URL = process.env['REDIS_URL'] ?? '';
const STORAGE_PREFIX = `replicas-${process.pid}:`;
const REGISTRATION_RATE_LIMIT = 5;
const FETCH_RATE_LIMIT = 3;

let gateway: RunningGateway;
let page: Server;
let pageUrl: string;
const authUrls: string[] = [];
const echoReplicas: ServiceProcess[] = [];
let echoUrl: string;
let alice: { client: Client; provider: TestOAuthProvider };
/** Registrations so far from this machine's address (the registration rate limit counts them). */
let registrations = 0;

const textOf = (result: unknown) =>
  ((result as { content?: Array<{ type: string; text?: string }> }).content ?? [])
    .map((item) => item.text ?? '')
    .join('\n');
/** MCP requests a replica served, from its access log. */
const mcpRequestsOf = (replica: ServiceProcess) =>
  replica
    .output()
    .split('\n')
    .filter((line) => line.includes('"request completed"') && /"url":"\/mcp"/.test(line)).length;
const verifyAt = (authUrl: string, token: string, service = 'echo-stateful') =>
  fetch(`${authUrl}/verify`, {
    headers: {
      authorization: `Bearer ${token}`,
      'x-forwarded-method': 'POST',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': new URL(gateway.url).host,
      'x-forwarded-uri': `/${service}/mcp`,
    },
  });

beforeAll(async () => {
  if (!REDIS_URL) throw new Error('REDIS_URL is not set: the e2e global setup starts a Redis');
  page = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>Replicated page</h1></body></html>'),
  );
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

  const origins = async (count: number) => {
    const list: string[] = [];
    for (let index = 0; index < count; index++) list.push(`http://127.0.0.1:${await freePort()}`);
    return list;
  };
  authUrls.push(...(await origins(2)));
  const echoUrls = await origins(2);
  const edgePort = await freePort();
  const shared = {
    REDIS_URL,
    STORAGE_PREFIX,
    PUBLIC_URL: `http://127.0.0.1:${edgePort}`,
    NODE_ENV: 'development',
    ...enableOnly('echo-stateful', 'fetchs'),
  };
  // echo-stateful's replicas, outside start.mjs (--skip), with access logs to tell which replica served what.
  for (const url of echoUrls)
    echoReplicas.push(
      await startService('echo-stateful', {
        env: { ...shared, PORT: new URL(url).port, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      }),
    );
  gateway = await startGateway(
    {
      ...shared,
      AUTH_UPSTREAM: authUrls.join(','),
      MCP_ECHO_STATEFUL_UPSTREAM: echoUrls.join(','),
      MCP_FETCHS_UPSTREAM: (await origins(2)).join(','),
      REGISTRATION_RATE_LIMIT: String(REGISTRATION_RATE_LIMIT),
      FETCH_RATE_LIMIT: String(FETCH_RATE_LIMIT),
      FETCH_ALLOW: pageUrl.replace('http://', ''),
      FETCH_ROBOTS: 'false',
    },
    { edgePort, skip: ['echo-stateful'] },
  );
  echoUrl = gateway.mcpUrls.get('echo-stateful') ?? '';
}, 240_000);

afterAll(async () => {
  await alice?.client.close().catch(() => undefined);
  await gateway?.stop();
  for (const replica of echoReplicas) await replica.stop();
  await new Promise((resolve) => page?.close(resolve));
});

describe('two replicas each of auth, echo-stateful and fetchs on one Redis', () => {
  it('npm start runs two of auth and fetchs and says so', () => {
    expect(gateway.output()).toMatch(/replicas \(the edge balances over them\): auth 2, fetchs 2/);
  });

  it('a client registered, consented and got its token across the auth replicas, and both accept the token', async () => {
    const log: string[] = [];
    alice = await connectWithOAuth(echoUrl, 'alice', log);
    registrations++;
    const token = (await alice.provider.tokens())?.access_token ?? '';
    // The edge alternates requests: registration, authorize, login, consent and token met both replicas.
    for (const authUrl of authUrls) {
      const answer = await verifyAt(authUrl, token);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-user-name')).toBe('alice');
    }
  });

  it('a consent given through one replica is remembered by the other', async () => {
    // The same authorization request again: a fresh browser signs in, and no consent page comes (docs/auth.md).
    const pages: string[] = [];
    const watching: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      pages.push(await response.clone().text());
      return response;
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      const redirect = await completeAuthorization(alice.provider.authorizationUrl as URL, 'alice', watching);
      expect(redirect.searchParams.get('code')).toBeTruthy();
    }
    expect(pages.some((html) => html.includes('name="username"'))).toBe(true);
    expect(pages.filter((html) => html.includes('name="decision"'))).toEqual([]);
  });

  it('a 2025-era session continues on whichever echo-stateful replica a request reaches', async () => {
    const before = echoReplicas.map(mcpRequestsOf);
    for (let call = 0; call < 6; call++) {
      const result = await alice.client.callTool({ name: 'echo', arguments: { message: `call ${call}` } });
      expect(textOf(result)).toContain(`call ${call}`);
    }
    const info = textOf(await alice.client.callTool({ name: 'sessionInfo', arguments: {} }));
    expect(info).toContain(alice.client.transport?.sessionId ?? 'no session');
    const served = echoReplicas.map((replica, index) => mcpRequestsOf(replica) - (before[index] ?? 0));
    expect(served.every((count) => count >= 3)).toBe(true);
  });

  it("fetchs' per-user rate limit counts across both replicas", async () => {
    const bob = await connectWithOAuth(gateway.mcpUrls.get('fetchs') ?? '', 'bob', []);
    registrations++;
    try {
      const answers: boolean[] = [];
      for (let call = 0; call <= FETCH_RATE_LIMIT; call++) {
        const result = await bob.client.callTool({ name: 'fetch', arguments: { url: `${pageUrl}/${call}` } });
        answers.push(!result.isError && textOf(result).includes('Replicated page'));
        if (result.isError) expect(textOf(result)).toMatch(/rate limit/);
      }
      // Per-process counters would let 2 × FETCH_RATE_LIMIT through two replicas.
      expect(answers).toEqual([...Array(FETCH_RATE_LIMIT).fill(true), false]);
    } finally {
      await bob.client.close();
    }
  });

  it('the registration rate limit counts across both auth replicas', async () => {
    const statuses: number[] = [];
    for (let attempt = registrations; attempt <= REGISTRATION_RATE_LIMIT; attempt++) {
      const response = await fetch(`${gateway.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'replicas',
          redirect_uris: ['http://127.0.0.1:1/cb'],
          token_endpoint_auth_method: 'none',
        }),
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([...Array(REGISTRATION_RATE_LIMIT - registrations).fill(201), 429]);
  });

  it('stopping one echo-stateful replica loses only the requests it was serving; sessions carry on', async () => {
    const token = (await alice.provider.tokens())?.access_token ?? '';
    const version = '2025-11-25';
    const headers = (sessionId?: string) => ({
      authorization: `Bearer ${token}`,
      ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': version } : {}),
    });
    // Two sessions, each with its server-to-client GET stream held open: initialize, initialized, GET is three
    // requests per session, so round robin puts the two streams on different replicas.
    const streams: { sessionId: string; ended: boolean; done: Promise<void>; stop: () => Promise<void> }[] = [];
    for (let index = 0; index < 2; index++) {
      const init = await postMcp(echoUrl, initializeRequest(version), headers());
      expect(init.status).toBe(200);
      const sessionId = init.headers.get('mcp-session-id') ?? '';
      await init.text();
      const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
      expect((await postMcp(echoUrl, initialized, headers(sessionId))).status).toBe(202);
      const get = await fetch(echoUrl, { headers: { ...headers(sessionId), accept: 'text/event-stream' } });
      expect(get.status).toBe(200);
      const reader = (get.body as ReadableStream<Uint8Array>).getReader();
      const entry = { sessionId, ended: false, done: Promise.resolve(), stop: () => reader.cancel() };
      entry.done = (async () => {
        try {
          while (!(await reader.read()).done);
        } catch {
          // a reset connection ends the stream too
        }
        entry.ended = true;
      })();
      streams.push(entry);
    }

    // A crash, not a drain: the replica gets no chance to finish anything.
    const [victim] = echoReplicas;
    const exited = new Promise((resolve) => victim?.child.once('exit', resolve));
    victim?.child.kill('SIGKILL');
    await exited;
    await Promise.race(streams.map((stream) => stream.done));

    // Each session carries on: a request may meet 502 until the edge's health check leaves the dead replica out,
    // never a 404 (the session is in Redis, the surviving replica serves it).
    for (const { sessionId } of streams) {
      const statuses: number[] = [];
      while (statuses.filter((status) => status === 200).length < 4 && statuses.length < 40) {
        const list = await postMcp(
          echoUrl,
          { jsonrpc: '2.0', id: statuses.length + 2, method: 'tools/list' },
          headers(sessionId),
        );
        statuses.push(list.status);
        await list.text();
        if (list.status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // Round robin may still pick the dead replica (502) between successes until its health check fails.
      expect(statuses.filter((status) => status !== 200 && status !== 502)).toEqual([]);
      expect(statuses.filter((status) => status === 200)).toHaveLength(4);
    }
    // Exactly the stream the dead replica held ended; the other is still open on the survivor.
    expect(streams.map((stream) => stream.ended).sort()).toEqual([false, true]);
    for (const stream of streams) if (!stream.ended) await stream.stop();
  });

  it('a token revoked through one replica is refused by every replica', async () => {
    const tokens = await alice.provider.tokens();
    const clientId = alice.provider.clientInformation()?.client_id ?? '';
    const revoked = await fetch(`${gateway.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens?.access_token ?? '', client_id: clientId }).toString(),
    });
    expect(revoked.status).toBe(200);
    // Revocation reaches the other replicas through Redis pub/sub (docs/auth.md): a bounded poll, 20 × 10 ms.
    for (const authUrl of authUrls) {
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 401; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10));
        status = (await verifyAt(authUrl, tokens?.access_token ?? '')).status;
        expect([200, 401]).toContain(status);
      }
      expect(status).toBe(401);
    }
    // Through the edge too: the MCP request meets the challenge.
    const refused = await fetch(echoUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens?.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(refused.status).toBe(401);
  });
});
