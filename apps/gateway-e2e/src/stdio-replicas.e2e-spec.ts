// Two stdio-proxy replicas of `everything` (and two of `memory`, as `npm start` runs them) behind the dev edge on
// one real Redis, without sticky routing (docs/stdio-proxy.md "Replicas"): the edge alternates requests between
// them, each child lives in one of them, and the other forwards to it. Stopping one loses its requests and its
// sessions (404: the client re-initializes); its 2026-07-28 users get a new child on the survivor.
import { randomBytes } from 'node:crypto';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
} from '@modelcontextprotocol/client';
import { freePort, initializeRequest, postMcp, type ServiceProcess, startService } from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { connectWithOAuth } from './support/oauth-client';

const REDIS_URL = process.env['REDIS_URL'] ?? '';
const VERSION = '2025-11-25';

let gateway: RunningGateway;
const replicas: ServiceProcess[] = [];
let mcpUrl: string;
let token: string;

const textOf = (result: unknown) =>
  ((result as { content?: Array<{ type: string; text?: string }> }).content ?? []).map((item) => item.text).join('\n');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * The replicas that logged opening this session (stdio-proxy.ts: `session <8 chars> opened`). The line reaches this
 * process's pipe a moment after the answer: a bounded poll, 20 × 50 ms.
 */
async function ownerOf(sessionId: string): Promise<ServiceProcess[]> {
  const owners = () =>
    replicas.filter((replica) => replica.output().includes(`session ${sessionId.slice(0, 8)} opened`));
  for (let attempt = 0; attempt < 20 && owners().length === 0; attempt++) await sleep(50);
  return owners();
}
const headers = (sessionId?: string) => ({
  authorization: `Bearer ${token}`,
  ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': VERSION } : {}),
});

/** A raw 2025 session: initialize and initialized through the edge; its id. */
async function openSession(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const init = await postMcp(mcpUrl, initializeRequest(VERSION), headers());
    await init.text();
    // 502: the edge met a replica that was just stopped, before its health check left it out.
    if (init.status === 502) {
      await sleep(250);
      continue;
    }
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id') ?? '';
    const initialized = await postMcp(
      mcpUrl,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      headers(sessionId),
    );
    await initialized.text();
    if (initialized.status === 202) return sessionId;
    expect(initialized.status).toBe(502);
  }
  throw new Error('no session after 20 attempts');
}

/** `tools/list` in a session through the edge: its status. */
async function listTools(sessionId: string, id: number): Promise<number> {
  const response = await postMcp(mcpUrl, { jsonrpc: '2.0', id, method: 'tools/list' }, headers(sessionId));
  const body = await response.text();
  if (response.status === 200) expect(body).toContain('"echo"');
  return response.status;
}

/**
 * A long tool call in a session, through the edge (SSE): `started` once its first progress arrived, then whether it
 * `completed` (its result arrived) or was `lost` (the stream broke).
 */
function longCall(sessionId: string, id: number): { started: Promise<void>; outcome: Promise<'completed' | 'lost'> } {
  let started!: () => void;
  const progress = new Promise<void>((resolve) => (started = resolve));
  const outcome = (async () => {
    try {
      const response = await postMcp(
        mcpUrl,
        {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            name: 'trigger-long-running-operation',
            arguments: { duration: 4, steps: 4 },
            _meta: { progressToken: `p${id}` },
          },
        },
        headers(sessionId),
      );
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += new TextDecoder().decode(chunk.value);
        if (text.includes('notifications/progress')) started();
      }
      return text.includes('Long running operation completed') ? 'completed' : 'lost';
    } catch {
      return 'lost';
    } finally {
      started(); // a call that failed before any progress must not hold the test
    }
  })();
  return { started: progress, outcome };
}

/** The SDK v2 client pinned to 2026-07-28 (no session: routed by user). */
async function modernEcho(message: string): Promise<string> {
  const client = new ClientV2(
    { name: 'stdio-replicas', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new StreamableHTTPClientTransportV2(new URL(mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  try {
    return textOf(await client.callTool({ name: 'echo', arguments: { message } }));
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  if (!REDIS_URL) throw new Error('REDIS_URL is not set: the e2e global setup starts a Redis');
  const edgePort = await freePort();
  const shared = {
    REDIS_URL,
    STORAGE_PREFIX: `stdio-replicas-${process.pid}:`,
    PUBLIC_URL: `http://127.0.0.1:${edgePort}`,
    NODE_ENV: 'development',
    ...enableOnly('everything', 'memory'),
  };
  // The replicas outside start.mjs (--skip), as it would run them (STDIO_PEER_URL, one secret), so one can be killed.
  const secret = randomBytes(32).toString('hex');
  const origins: string[] = [];
  for (let index = 0; index < 2; index++) {
    const port = await freePort();
    origins.push(`http://127.0.0.1:${port}`);
    replicas.push(
      await startService('stdio-proxy', {
        env: {
          ...shared,
          PORT: String(port),
          MCP_SERVICE: 'everything',
          STDIO_PEER_URL: `http://127.0.0.1:${port}`,
          STDIO_PEER_SECRET: secret,
          LOG_LEVEL: 'info',
        },
      }),
    );
  }
  // memory's two replicas as `npm start` runs them (MCP_MEMORY_REPLICAS: STDIO_PEER_URL and the secret from it).
  gateway = await startGateway(
    { ...shared, MCP_EVERYTHING_UPSTREAM: origins.join(','), MCP_MEMORY_REPLICAS: '2', LOG_LEVEL: 'info' },
    { edgePort, skip: ['everything'] },
  );
  mcpUrl = gateway.mcpUrls.get('everything') ?? '';
  const alice = await connectWithOAuth(mcpUrl, 'alice', []);
  token = (await alice.provider.tokens())?.access_token ?? '';
  await alice.client.close();
}, 240_000);

afterAll(async () => {
  await gateway?.stop();
  for (const replica of replicas) await replica.stop();
});

describe('two stdio-proxy replicas of everything, no sticky routing', () => {
  it('a 2025 session continues whichever replica a request reaches: the other forwards to its owner', async () => {
    const sessionId = await openSession();
    expect(await ownerOf(sessionId)).toHaveLength(1);
    const before = replicas.map((replica) => replica.output().length);
    // Round robin: half of these reach the replica without the child; every one succeeds.
    for (let call = 0; call < 6; call++) expect(await listTools(sessionId, call + 2)).toBe(200);
    // Both replicas served requests of this session from the edge (the owner also the forwarded ones). Their access
    // log lines reach this process's pipe a moment after the answers: a bounded poll, 20 × 50 ms.
    const served = () =>
      replicas.map(
        (replica, index) =>
          replica
            .output()
            .slice(before[index])
            .match(/"url":"\/mcp"/g)?.length ?? 0,
      );
    for (let attempt = 0; attempt < 20 && !served().every((count) => count >= 3); attempt++) await sleep(50);
    expect(served().every((count) => count >= 3)).toBe(true);
    // DELETE ends it wherever it arrives; then both replicas answer 404 (the owner dropped its claim).
    const deleted = await fetch(mcpUrl, { method: 'DELETE', headers: headers(sessionId) });
    expect(deleted.status).toBe(200);
    expect([await listTools(sessionId, 10), await listTools(sessionId, 11)]).toEqual([404, 404]);
  });

  it("a 2026-07-28 user's requests reach one child, whichever replica they reach", async () => {
    for (let call = 0; call < 4; call++) expect(await modernEcho(`modern ${call}`)).toContain(`modern ${call}`);
    const started = replicas.map((replica) =>
      replica.output().match(/child everything\/[^ ]+ \(2026-07-28\) started/g),
    );
    expect(started.map((lines) => lines?.length ?? 0).sort()).toEqual([0, 1]);
  });

  it("with a child per user (memory), a user's sessions open on the replica holding their child", async () => {
    expect(gateway.output()).toMatch(/replicas \(the edge balances over them\): memory 2/);
    expect(gateway.output().match(/replica \w+ reachable by its peers at http:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(2);
    const memoryUrl = gateway.mcpUrls.get('memory') ?? '';
    const bob = await connectWithOAuth(memoryUrl, 'bob', []);
    const bearer = { authorization: `Bearer ${(await bob.provider.tokens())?.access_token}` };
    await bob.client.close();
    // Two initializes in a row: the edge's round robin sends them to different replicas; both open on one.
    const ids: string[] = [];
    for (let index = 0; index < 2; index++) {
      const init = await postMcp(memoryUrl, initializeRequest(VERSION), bearer);
      expect(init.status).toBe(200);
      await init.text();
      ids.push(init.headers.get('mcp-session-id') ?? '');
    }
    // Which process opened each (its pid in the JSON log line `session <id8> opened`), read with a bounded poll.
    const openerOf = (id: string) =>
      new RegExp(`"pid":(\\d+)[^\\n]*session ${id.slice(0, 8)} opened`).exec(gateway.output())?.[1];
    for (let attempt = 0; attempt < 20 && ids.some((id) => !openerOf(id)); attempt++) await sleep(50);
    const openers = ids.map(openerOf);
    expect(openers[0]).toBeDefined();
    expect(openers[1]).toBe(openers[0]);
  });

  it('a forward a client forged straight to a replica is refused', async () => {
    const response = await fetch(`${replicas[0]?.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'x-user-id': 'mallory',
        'x-stdio-peer': `v1.a.b.${Date.now()}.forged`,
      },
      body: JSON.stringify(initializeRequest(VERSION)),
    });
    expect(response.status).toBe(403);
  });

  it("stopping one replica loses its sessions (404, the client re-initializes) and keeps the other's", async () => {
    // A session owned by each replica: the edge alternates, and three requests per session (initialize,
    // initialized, tools/list) put the next initialize on the other replica.
    const owned = new Map<ServiceProcess, string>();
    for (let attempt = 0; attempt < 10 && owned.size < 2; attempt++) {
      const sessionId = await openSession();
      expect(await listTools(sessionId, 1)).toBe(200);
      const [owner] = await ownerOf(sessionId);
      if (owner && !owned.has(owner)) owned.set(owner, sessionId);
    }
    expect(owned.size).toBe(2);
    const [victim, survivor] = replicas as [ServiceProcess, ServiceProcess];
    const lost = owned.get(victim) ?? '';
    const kept = owned.get(survivor) ?? '';

    // In flight at the crash: a call in the victim's session, and two in the survivor's sent one after the other,
    // so that the edge's round robin sends one straight to the survivor and one to the victim, which relays it.
    const inLost = longCall(lost, 900);
    const inKept = [longCall(kept, 901), longCall(kept, 902)];
    await Promise.all([inLost, ...inKept].map((call) => call.started));

    // A crash, not a drain: the victim leaves nothing behind in Redis.
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await exited;
    // Lost: what the victim served or relayed. The survivor's own request completes.
    expect(await inLost.outcome).toBe('lost');
    expect((await Promise.all(inKept.map((call) => call.outcome))).sort()).toEqual(['completed', 'lost']);

    // Its session: 404 once a request reaches the survivor, which cannot reach the owner (502 only while the
    // edge still picks the dead replica). Never a 200: the child is gone.
    const lostStatuses: number[] = [];
    while (!lostStatuses.includes(404) && lostStatuses.length < 40) {
      lostStatuses.push(await listTools(lost, lostStatuses.length + 100));
      if (lostStatuses.at(-1) === 502) await sleep(250);
    }
    expect(lostStatuses.filter((status) => status !== 404 && status !== 502)).toEqual([]);
    expect(lostStatuses).toContain(404);

    // The survivor's session carries on.
    const keptStatuses: number[] = [];
    while (keptStatuses.filter((status) => status === 200).length < 4 && keptStatuses.length < 40) {
      keptStatuses.push(await listTools(kept, keptStatuses.length + 100));
      if (keptStatuses.at(-1) === 502) await sleep(250);
    }
    expect(keptStatuses.filter((status) => status !== 200 && status !== 502)).toEqual([]);

    // The client of the lost session re-initializes and carries on, on the survivor.
    const renewed = await openSession();
    expect(await ownerOf(renewed)).toEqual([survivor]);
    for (let call = 0; call < 4; call++) expect([200, 502]).toContain(await listTools(renewed, call + 200));

    // A 2026-07-28 user whose child was on the victim gets a new one on the survivor.
    let echoed = '';
    for (let attempt = 0; attempt < 20 && !echoed; attempt++) {
      echoed = await modernEcho('after the crash').catch(async () => {
        await sleep(250);
        return '';
      });
    }
    expect(echoed).toContain('after the crash');
    expect(survivor.output()).toMatch(/child everything\/[^ ]+ \(2026-07-28\) started/);
  });
});
