import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectMcp,
  freePort,
  postMcp,
  excludedIn2026,
  runConformance,
  type ServiceProcess,
  startService,
} from '@gateway/testing';
import { childrenOf, isRunning, openSession, ping, waitFor } from './support/helpers';

const ALICE = { 'x-user-id': 'github:1' };
const BOB = { 'x-user-id': 'github:2' };
const CAROL = { 'x-user-id': 'github:3' };
const FIXTURE_STDIO = { STDIO_COMMAND: 'node', STDIO_ARGS: 'dist/tools/conformance-fixture/src/stdio.js' };

/** A raw 2026-07-28 `tools/list` (no session: the proxy routes it to the user's child). */
const modernCall = (url: string, identity: Record<string, string>): Promise<Response> =>
  postMcp(
    url,
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'raw-e2e', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    },
    { ...identity, accept: 'application/json', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
  );

const textOf = (result: unknown): string =>
  ((result as { content: { text: string }[] }).content ?? []).map((item) => item.text).join('\n');

describe('stdio-proxy wrapping the four official servers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'proxy-data-'));
  const workspaceDir = mkdtempSync(join(tmpdir(), 'proxy-workspace-'));
  const proxies: ServiceProcess[] = [];
  const start = async (service: string): Promise<string> => {
    const proxy = await startService('stdio-proxy', {
      env: { MCP_SERVICE: service, MCP_DATA_DIR: dataDir, MCP_WORKSPACE_DIR: workspaceDir },
    });
    proxies.push(proxy);
    return `${proxy.url}/mcp`;
  };

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workspaceDir, { recursive: true, force: true });
  });

  it("everything: echo, with the child's stderr in the proxy's log", async () => {
    const { client } = await connectMcp(await start('everything'), ALICE);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'through the proxy' } }))).toBe(
      'Echo: through the proxy',
    );
    await client.close();
    expect(proxies[0]?.output()).toMatch(/pid \d+\] Starting default \(STDIO\) server/);
  });

  it("memory: entities land in the user's own data file under MCP_DATA_DIR", async () => {
    const { client } = await connectMcp(await start('memory'), ALICE);
    await client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'gateway', entityType: 'project', observations: ['wraps stdio'] }] },
    });
    expect(textOf(await client.callTool({ name: 'read_graph', arguments: {} }))).toContain('wraps stdio');
    // sha256('github:1'): the user's own directory (STDIO_DATA_SCOPE=user, the default).
    const own = join(dataDir, 'users', createHash('sha256').update(ALICE['x-user-id']).digest('hex'));
    expect(readFileSync(join(own, 'memory.jsonl'), 'utf8')).toContain('gateway');
    await client.close();
  });

  it("filesystem: reads inside the user's own MCP_WORKSPACE_DIR and refuses outside it", async () => {
    const own = join(workspaceDir, 'users', createHash('sha256').update(ALICE['x-user-id']).digest('hex'));
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, 'note.txt'), 'hello from the workspace');
    const { client } = await connectMcp(await start('filesystem'), ALICE);
    expect(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(own, 'note.txt') } }))).toBe(
      'hello from the workspace',
    );
    const outside = await client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } });
    expect(outside.isError).toBe(true);
    await client.close();
  });

  it('sequential-thinking: one thought', async () => {
    const { client } = await connectMcp(await start('sequential-thinking'), ALICE);
    const result = await client.callTool({
      name: 'sequentialthinking',
      arguments: {
        thought: 'The proxy passes this through.',
        thoughtNumber: 1,
        totalThoughts: 1,
        nextThoughtNeeded: false,
      },
    });
    expect(textOf(result)).toContain('"thoughtNumber": 1');
    await client.close();
  });
});

describe('stdio-proxy process model', () => {
  let proxy: ServiceProcess;
  let url: string;
  const startProxy = async (env: Record<string, string> = {}) => {
    proxy = await startService('stdio-proxy', {
      env: {
        ...FIXTURE_STDIO,
        STDIO_MAX_CHILDREN: '2',
        STDIO_MAX_CHILDREN_PER_USER: '1',
        MCP_SESSION_IDLE_TIMEOUT: '10', // long enough for the other tests' steps on a loaded machine
        MCP_SESSION_UNUSED_TIMEOUT: '600', // reliability.e2e-spec.ts covers sessions never used
        ...env,
      },
    });
    url = `${proxy.url}/mcp`;
  };

  // The short idle timeout only where idleness is the subject: elsewhere a busy machine can take more than its
  // 2 s between two requests of one test, and the session would be gone (DELETE answered 404).
  beforeEach(() => startProxy());

  afterEach(async () => {
    await proxy?.stop();
  });

  it('spawns no child for readiness probes, one per session, and passes ids through unchanged', async () => {
    for (let probe = 0; probe < 3; probe++) expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200);
    expect(childrenOf(proxy.child.pid)).toEqual([]);
    const { sessionId } = await openSession(url, ALICE);
    expect(childrenOf(proxy.child.pid)).toHaveLength(1);
    const answer = await ping(url, sessionId as string, ALICE, 'client-chosen-id-42');
    expect(await answer.json()).toEqual({ jsonrpc: '2.0', id: 'client-chosen-id-42', result: {} });
    const notification = await postMcp(
      url,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x' } },
      { ...ALICE, 'mcp-session-id': sessionId as string },
    );
    expect(notification.status).toBe(202);
    expect((await ping(url, sessionId as string, BOB)).status).toBe(404);
  });

  it('limits children in total (503 with Retry-After); at the per-user limit the oldest idle session ends', async () => {
    const first = await openSession(url, ALICE);
    expect(first.sessionId).toBeTruthy();
    // Clients reconnect without DELETE: the new session is admitted and replaces the idle one.
    const second = await openSession(url, ALICE);
    expect(second.sessionId).toBeTruthy();
    expect((await ping(url, first.sessionId as string, ALICE)).status).toBe(404);
    expect((await ping(url, second.sessionId as string, ALICE)).status).toBe(200);
    expect((await openSession(url, BOB)).sessionId).toBeTruthy();
    const third = await openSession(url, CAROL);
    expect(third.response.status).toBe(503);
    expect(third.response.headers.get('retry-after')).toBe('30');
    expect(await third.response.json()).toMatchObject({
      error: { message: expect.stringContaining('maximum of child processes') },
    });
    await waitFor(() => childrenOf(proxy.child.pid).length === 2);
  });

  it('counts 2026-07-28 children in STDIO_MAX_CHILDREN: the same 503 with Retry-After as a 2025 session', async () => {
    expect((await modernCall(url, ALICE)).status).toBe(200);
    expect(childrenOf(proxy.child.pid)).toHaveLength(1);
    expect((await openSession(url, BOB)).sessionId).toBeTruthy();
    expect(childrenOf(proxy.child.pid)).toHaveLength(2);
    // The limit is reached with one child of each era: a third user gets the 503 in both eras, no third child.
    const refusals = [await modernCall(url, CAROL), (await openSession(url, CAROL)).response];
    for (const refused of refusals) {
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('30');
      expect(await refused.json()).toMatchObject({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32000, message: expect.stringContaining('maximum of child processes') },
      });
    }
    expect(childrenOf(proxy.child.pid)).toHaveLength(2);
    // A user who has a child keeps being served.
    expect((await modernCall(url, ALICE)).status).toBe(200);
    expect(childrenOf(proxy.child.pid)).toHaveLength(2);
  });

  it('admits concurrent first 2026-07-28 requests of more users than STDIO_MAX_CHILDREN up to the limit only', async () => {
    const users = ['github:11', 'github:12', 'github:13', 'github:14', 'github:15'];
    const statuses = await Promise.all(
      users.map(async (user) => (await modernCall(url, { 'x-user-id': user })).status),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(2);
    expect(statuses.filter((status) => status === 503)).toHaveLength(3);
    expect(childrenOf(proxy.child.pid)).toHaveLength(2);
  });

  it("counts a user's 2026-07-28 child in STDIO_MAX_CHILDREN_PER_USER: their idle child of the other era ends", async () => {
    const { sessionId } = await openSession(url, ALICE);
    const [sessionChild] = childrenOf(proxy.child.pid);
    // At the per-user limit (1), the 2026-07-28 request gets a child; the idle 2025 session ends, as for a new session.
    expect((await modernCall(url, ALICE)).status).toBe(200);
    expect((await ping(url, sessionId as string, ALICE)).status).toBe(404);
    await waitFor(() => !isRunning(sessionChild as number));
    const [modernChild] = childrenOf(proxy.child.pid);
    expect(childrenOf(proxy.child.pid)).toHaveLength(1);
    // And the reverse: a new 2025 session ends the idle 2026-07-28 child.
    expect((await openSession(url, ALICE)).sessionId).toBeTruthy();
    await waitFor(() => !isRunning(modernChild as number));
    expect(childrenOf(proxy.child.pid)).toHaveLength(1);
  });

  it('ends the session when its child crashes (404 next), reaping the child', async () => {
    const { sessionId } = await openSession(url, ALICE);
    const [child] = childrenOf(proxy.child.pid);
    process.kill(child as number, 'SIGKILL');
    await waitFor(() => !isRunning(child as number));
    await waitFor(() => childrenOf(proxy.child.pid).length === 0);
    expect((await ping(url, sessionId as string, ALICE)).status).toBe(404);
    expect((await openSession(url, ALICE)).sessionId).toBeTruthy(); // the user's slot is free again
  });

  it('stops the child of an idle session (MCP_SESSION_IDLE_TIMEOUT) and answers 404', async () => {
    await proxy.stop();
    await startProxy({ MCP_SESSION_IDLE_TIMEOUT: '2' });
    const { sessionId } = await openSession(url, ALICE);
    expect((await ping(url, sessionId as string, ALICE)).status).toBe(200); // in use: the idle timeout applies
    const [child] = childrenOf(proxy.child.pid);
    await waitFor(() => !isRunning(child as number), 25_000);
    expect((await ping(url, sessionId as string, ALICE)).status).toBe(404);
  }, 40_000);

  it('DELETE ends the session and its child', async () => {
    const { sessionId } = await openSession(url, ALICE);
    const [child] = childrenOf(proxy.child.pid);
    expect(
      (await fetch(url, { method: 'DELETE', headers: { ...ALICE, 'mcp-session-id': sessionId as string } })).status,
    ).toBe(200);
    await waitFor(() => !isRunning(child as number));
    expect((await ping(url, sessionId as string, ALICE)).status).toBe(404);
  });

  it('SIGTERM stops every child and exits 0, leaving no process behind', async () => {
    await openSession(url, ALICE);
    await openSession(url, BOB);
    const children = childrenOf(proxy.child.pid);
    expect(children).toHaveLength(2);
    expect(await proxy.stop()).toBe(0);
    expect(children.filter(isRunning)).toEqual([]);
  });
});

describe('stdio-proxy as a single replica (no STDIO_PEER_URL)', () => {
  it('does not use REDIS_URL: ready and serving while nothing answers there (a replica set needs it, not one)', async () => {
    // A loopback port nothing listens on: a Redis client would fail to connect and /readyz would answer 503.
    const redisPort = await freePort();
    const proxy = await startService('stdio-proxy', {
      env: { ...FIXTURE_STDIO, REDIS_URL: `redis://127.0.0.1:${redisPort}/0` },
      timeoutMs: 15_000,
    });
    try {
      expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200);
      expect((await openSession(`${proxy.url}/mcp`, ALICE)).sessionId).toBeTruthy();
      expect(proxy.output()).toMatch(/REDIS_URL is not used: a single replica/);
      expect(proxy.output()).not.toMatch(/Redis unavailable/);
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});

describe('stdio-proxy with one child per user (server-memory by default)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'proxy-shared-'));
  let proxy: ServiceProcess;
  let url: string;

  beforeAll(async () => {
    proxy = await startService('stdio-proxy', {
      env: { MCP_SERVICE: 'memory', MCP_DATA_DIR: dataDir }, // the catalog marks it shareable
    });
    url = `${proxy.url}/mcp`;
  });

  afterAll(async () => {
    await proxy?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("shares one child among a user's sessions, keeps their ids apart, and stops it with the last session", async () => {
    const first = await connectMcp(url, ALICE);
    const second = await connectMcp(url, ALICE);
    expect(childrenOf(proxy.child.pid)).toHaveLength(1);
    const entity = (name: string) => ({
      name: 'create_entities',
      arguments: { entities: [{ name, entityType: 'test', observations: [`made by ${name}`] }] },
    });
    // One after the other: server-memory itself does not serialize concurrent writes to its file.
    expect(textOf(await first.client.callTool(entity('first-session')))).toContain('first-session');
    expect(textOf(await second.client.callTool(entity('second-session')))).toContain('second-session');
    // Both SDK clients number their requests alike, concurrently: the proxy must keep the answers apart.
    const lookups = await Promise.all([
      first.client.callTool({ name: 'open_nodes', arguments: { names: ['second-session'] } }),
      second.client.callTool({ name: 'open_nodes', arguments: { names: ['first-session'] } }),
    ]);
    expect(textOf(lookups[0])).toContain('made by second-session');
    expect(textOf(lookups[0])).not.toContain('made by first-session');
    expect(textOf(lookups[1])).toContain('made by first-session');
    expect(textOf(lookups[1])).not.toContain('made by second-session');

    const bob = await connectMcp(url, BOB);
    expect(childrenOf(proxy.child.pid)).toHaveLength(2);
    await bob.transport.terminateSession();
    await waitFor(() => childrenOf(proxy.child.pid).length === 1);

    const [aliceChild] = childrenOf(proxy.child.pid);
    await first.transport.terminateSession();
    expect(isRunning(aliceChild as number)).toBe(true);
    expect(textOf(await second.client.callTool({ name: 'read_graph', arguments: {} }))).toContain('first-session');
    await second.transport.terminateSession();
    await waitFor(() => !isRunning(aliceChild as number));
    await Promise.all([first.client.close(), second.client.close(), bob.client.close()]);
  });
});

describe('stdio-proxy conformance: the stdio fixture through the proxy vs the fixture served directly', () => {
  let proxy: ServiceProcess;
  let sharing: ServiceProcess;
  let direct: ServiceProcess;

  beforeAll(async () => {
    const [proxyPort, sharingPort, directPort] = [await freePort(), await freePort(), await freePort()];
    const proxyEnv = (port: number): Record<string, string> => ({
      ...FIXTURE_STDIO,
      PORT: String(port),
      MCP_ALLOWED_ORIGINS: `http://localhost:${port}`,
      // The suite opens ~35 sessions and never ends them.
      STDIO_MAX_CHILDREN: '100',
      STDIO_MAX_CHILDREN_PER_USER: '100',
    });
    // One after the other: each start has startService's own 30 s readiness bound, and three Nest apps booting
    // at once on a busy machine did not make it. The hook outlasts the three waits (jest's default is 30 s).
    proxy = await startService('stdio-proxy', { env: proxyEnv(proxyPort) });
    sharing = await startService('stdio-proxy', { env: { ...proxyEnv(sharingPort), STDIO_CHILD_PER: 'user' } });
    direct = await startService('tools/conformance-fixture', {
      env: { PORT: String(directPort), MCP_ALLOWED_ORIGINS: `http://localhost:${directPort}` },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([proxy?.stop(), sharing?.stop(), direct?.stop()]);
  });

  it('passes the same scenarios (sampling, elicitation and progress included)', async () => {
    const viaProxy = await runConformance(`http://localhost:${proxy.port}/mcp`);
    const served = await runConformance(`http://localhost:${direct.port}/mcp`);
    process.stdout.write(`[stdio-proxy-e2e] conformance, stdio fixture through the proxy:\n${viaProxy.summary}\n`);
    process.stdout.write(`[stdio-proxy-e2e] conformance, fixture served directly by mcp-session:\n${served.summary}\n`);
    const verdicts = (run: typeof served): string[] =>
      run.scenarios.map(
        (result) => `${result.scenario}: ${run.failedScenarios.includes(result.scenario) ? 'FAIL' : 'pass'}`,
      );
    expect(verdicts(viaProxy)).toEqual(verdicts(served));
    expect({ passed: viaProxy.passed, failed: viaProxy.failed }).toEqual({ passed: 73, failed: 0 });
    for (const scenario of ['tools-call-sampling', 'tools-call-elicitation', 'tools-call-with-progress'])
      expect(viaProxy.failedScenarios).not.toContain(scenario);

    // STDIO_CHILD_PER=user: every session of the suite (one anonymous user) shares one child.
    const viaSharedChild = await runConformance(`http://localhost:${sharing.port}/mcp`);
    process.stdout.write(
      `[stdio-proxy-e2e] conformance, stdio fixture through the proxy, one shared child:\n${viaSharedChild.summary}\n`,
    );
    expect(verdicts(viaSharedChild)).toEqual(verdicts(served));
    expect(childrenOf(sharing.child.pid)).toHaveLength(1);
  }, 300_000);

  it('passes the 2026-07-28 requirements through the proxy (one child per user) as the fixture served directly', async () => {
    const modern = { args: ['--requirements', '2026-07-28'] };
    const viaProxy = await runConformance(`http://localhost:${proxy.port}/mcp`, [], modern);
    process.stdout.write(
      `[stdio-proxy-e2e] 2026-07-28 requirements, stdio fixture through the proxy:\n${viaProxy.summary}\n`,
    );
    const unexpected = viaProxy.scenarios.flatMap(({ scenario, checks }) =>
      checks
        .filter((check) => check.status === 'FAILURE' && !excludedIn2026(scenario, check))
        .map((check) => `${scenario}/${check.id}: ${check.errorMessage ?? ''}`),
    );
    expect(unexpected).toEqual([]);
    expect(viaProxy.scenarios.map((result) => result.scenario)).toEqual(
      expect.arrayContaining(['server-stateless', 'http-header-validation', 'tools-call-with-progress']),
    );
  }, 300_000);
});
