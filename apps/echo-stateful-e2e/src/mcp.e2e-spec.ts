import {
  connectMcp,
  freePort,
  initializeRequest,
  type McpConnection,
  postMcp,
  runConformance,
  type ServiceProcess,
  startService,
} from '@gateway/testing';

const ALICE = {
  'x-user-id': 'github:1',
  'x-user-name': 'alice',
  'x-client-id': 'client-a',
  'x-scope': 'mcp echo-stateful:diagnostics',
};
const BOB = {
  'x-user-id': 'github:2',
  'x-user-name': 'bob',
  'x-client-id': 'client-b',
  'x-scope': 'mcp echo-stateful:diagnostics',
};

const textOf = (result: unknown): string =>
  ((result as { content: { text: string }[] }).content ?? []).map((item) => item.text).join('\n');
const callText = async (connection: McpConnection, name: string, args: Record<string, unknown> = {}): Promise<string> =>
  textOf(await connection.client.callTool({ name, arguments: args }));

/** A tools/call POSTed with an explicit session id and identity (what another replica or another user would send). */
const rawCall = (
  url: string,
  sessionId: string,
  identity: Record<string, string>,
  name: string,
  args: Record<string, unknown> = {},
): Promise<Response> =>
  postMcp(
    url,
    { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } },
    {
      ...identity,
      accept: 'application/json',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    },
  );

describe('echo-stateful over MCP Streamable HTTP', () => {
  const redisUrl = process.env['REDIS_URL'] ?? '';
  let first: ServiceProcess;
  let second: ServiceProcess;
  let alice: McpConnection;

  beforeAll(async () => {
    const port = await freePort();
    const env = { REDIS_URL: redisUrl, STORAGE_PREFIX: `e2e-${Date.now()}:` };
    [first, second] = await Promise.all([
      startService('echo-stateful', {
        env: { ...env, PORT: String(port), MCP_ALLOWED_ORIGINS: `http://localhost:${port}` },
      }),
      startService('echo-stateful', { env }),
    ]);
    alice = await connectMcp(`${first.url}/mcp`, ALICE, 'alice-client');
  });

  afterAll(async () => {
    await alice?.client.close();
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('lists the eleven tools', async () => {
    const { tools } = await alice.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      [
        'authContext',
        'bearerDecode',
        'corsAnalysis',
        'echo',
        'environmentDump',
        'healthProbe',
        'printHeader',
        'replayLastEcho',
        'requestTiming',
        'sessionInfo',
        'whoIStheGOAT',
      ].sort(),
    );
  });

  it('creates a session and reuses it: echo is tagged with it and replayLastEcho repeats it', async () => {
    const sessionId = alice.transport.sessionId as string;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await callText(alice, 'replayLastEcho')).toBe(
      'No previous echo message found in this session. Use the echo tool first!',
    );
    expect(await callText(alice, 'echo', { message: 'hi there' })).toBe(
      `[Session ${sessionId.slice(0, 8)}… from alice-client] hi there`,
    );
    expect(await callText(alice, 'replayLastEcho')).toBe(
      `[REPLAY - Session ${sessionId.slice(0, 8)}… from alice-client] hi there`,
    );
    expect(alice.transport.sessionId).toBe(sessionId);
  });

  it('runs the other tools inside the session', async () => {
    expect(await callText(alice, 'authContext')).toContain(`session: ${alice.transport.sessionId}`);
    expect(await callText(alice, 'whoIStheGOAT')).toContain('the GOAT is alice');
    expect(await callText(alice, 'printHeader')).toContain(`mcp-session-id: ${alice.transport.sessionId}`);
    expect(await callText(alice, 'bearerDecode')).toBe('No Authorization header reached this service.');
    expect(await callText(alice, 'requestTiming')).toContain('elapsed in service');
    expect(await callText(alice, 'corsAnalysis')).toContain('no Origin header');
    expect(await callText(alice, 'environmentDump')).toContain('REDIS_URL: set (value hidden)');
    const health = await callText(alice, 'healthProbe');
    expect(health).toContain('Status: HEALTHY');
    expect(health).toContain('storage: ok');
  });

  it("sessionInfo lists the caller's own sessions only", async () => {
    const aliceAgain = await connectMcp(`${first.url}/mcp`, ALICE, 'alice-second-client');
    const bob = await connectMcp(`${first.url}/mcp`, BOB, 'bob-client');
    const info = await callText(alice, 'sessionInfo');
    expect(info).toContain(`id: ${alice.transport.sessionId}`);
    expect(info).toContain('client: alice-client 1.0.0');
    expect(info).toContain('protocol version: 2025-11-25');
    expect(info).toContain('Your sessions (2)');
    expect(info).toContain(`${aliceAgain.transport.sessionId?.slice(0, 8)}…: alice-second-client`);
    expect(info).not.toContain(bob.transport.sessionId?.slice(0, 8));
    expect(info).not.toContain('bob-client');
    expect(await callText(bob, 'sessionInfo')).toContain('Your sessions (1)');
    await aliceAgain.transport.terminateSession();
    await Promise.all([aliceAgain.client.close(), bob.transport.terminateSession().then(() => bob.client.close())]);
  });

  it('serves the same session from a second process sharing Redis', async () => {
    const sessionId = alice.transport.sessionId as string;
    const replay = await rawCall(`${second.url}/mcp`, sessionId, ALICE, 'replayLastEcho');
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({
      result: { content: [{ text: `[REPLAY - Session ${sessionId.slice(0, 8)}… from alice-client] hi there` }] },
    });
    expect(
      (await rawCall(`${second.url}/mcp`, sessionId, ALICE, 'echo', { message: 'from the second replica' })).status,
    ).toBe(200);
    expect(await callText(alice, 'replayLastEcho')).toContain('from the second replica');
  });

  it("binds the session to its user: another user's request gets 404", async () => {
    const sessionId = alice.transport.sessionId as string;
    for (const url of [first.url, second.url]) {
      const stolen = await rawCall(`${url}/mcp`, sessionId, BOB, 'replayLastEcho');
      expect(stolen.status).toBe(404);
      expect(await stolen.json()).toMatchObject({ error: { code: -32001 } });
      expect((await rawCall(`${url}/mcp`, sessionId, {}, 'replayLastEcho')).status).toBe(404);
    }
  });

  it('requires the session id (400), and answers an unknown one with 404', async () => {
    const missing = await postMcp(`${first.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, ALICE);
    expect(missing.status).toBe(400);
    expect((await fetch(`${first.url}/mcp`, { headers: { ...ALICE, accept: 'text/event-stream' } })).status).toBe(400);
    expect(
      (await rawCall(`${first.url}/mcp`, '00000000-0000-4000-8000-000000000000', ALICE, 'echo', { message: 'x' }))
        .status,
    ).toBe(404);
  });

  it('negotiates versions per session and refuses an unsupported MCP-Protocol-Version header', async () => {
    for (const [asked, answered] of [
      ['2025-06-18', '2025-06-18'],
      ['2024-11-05', '2024-11-05'],
      ['1999-01-01', '2025-11-25'],
    ]) {
      const response = await postMcp(`${first.url}/mcp`, initializeRequest(asked as string), {
        ...ALICE,
        accept: 'application/json',
      });
      expect(((await response.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe(
        answered,
      );
      const sessionId = response.headers.get('mcp-session-id') as string;
      expect(
        (
          await postMcp(
            `${first.url}/mcp`,
            { jsonrpc: '2.0', id: 2, method: 'ping' },
            { ...ALICE, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2023-01-01' },
          )
        ).status,
      ).toBe(400);
      expect(
        (await fetch(`${first.url}/mcp`, { method: 'DELETE', headers: { ...ALICE, 'mcp-session-id': sessionId } }))
          .status,
      ).toBe(200);
    }
  });

  it('refuses a foreign Origin with 403 before looking at the session', async () => {
    const response = await rawCall(
      `${first.url}/mcp`,
      alice.transport.sessionId as string,
      { ...ALICE, origin: 'https://evil.example' },
      'echo',
      { message: 'x' },
    );
    expect(response.status).toBe(403);
  });

  it('ends the session on DELETE; both processes answer 404 afterwards', async () => {
    const sessionId = alice.transport.sessionId as string;
    await alice.transport.terminateSession();
    for (const url of [first.url, second.url]) {
      expect((await rawCall(`${url}/mcp`, sessionId, ALICE, 'replayLastEcho')).status).toBe(404);
    }
  });

  it('passes the transport-level conformance scenarios (summary in the output)', async () => {
    const run = await runConformance(`http://localhost:${first.port}/mcp`);
    process.stdout.write(
      `[echo-stateful-e2e] conformance suite against echo-stateful (no fixture tools):\n${run.summary}\n`,
    );
    for (const scenario of [
      'server-initialize',
      'ping',
      'tools-list',
      'dns-rebinding-protection',
      'server-sse-multiple-streams',
    ]) {
      expect(run.scenarios.some((result) => result.scenario === scenario)).toBe(true);
      expect(run.failedScenarios).not.toContain(scenario);
    }
  }, 180_000);
});
