// A wrapped server that dies, hangs or gets a reused id: every request still ends with a JSON-RPC answer.
import { connectMcp, postMcp, type ServiceProcess, startService } from '@gateway/testing';
import { childrenOf, openSession, ping, waitFor } from './support/helpers';

const ALICE = { 'x-user-id': 'github:1' };
const BOB = { 'x-user-id': 'github:2' };
const LONG_CALL = { name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 60 } };

/** Starts a long call with the SDK client, kills the child at its first progress; resolves with the call's error. */
async function killMidCall(
  url: string,
  identity: Record<string, string>,
  kill: () => void,
): Promise<{ error: Error; close: () => Promise<void> }> {
  const { client } = await connectMcp(url, identity);
  let killed = false;
  const call = client.callTool(LONG_CALL, undefined, {
    onprogress: () => {
      if (!killed) kill();
      killed = true;
    },
  });
  const error = await call.then(
    () => new Error('the call succeeded'),
    (reason: Error) => reason,
  );
  return { error, close: () => client.close() };
}

describe('stdio-proxy: a child that exits mid-call', () => {
  let proxy: ServiceProcess | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it('answers the in-flight request with a JSON-RPC error (one child per session)', async () => {
    proxy = await startService('stdio-proxy', { env: { MCP_SERVICE: 'everything' } });
    const pid = proxy.child.pid;
    const { error, close } = await killMidCall(`${proxy.url}/mcp`, ALICE, () => {
      for (const child of childrenOf(pid)) process.kill(child, 'SIGKILL');
    });
    // Not the SDK client's own 60 s timeout (-32001): the proxy answered.
    expect(error.message).toMatch(/MCP error -32603: The MCP server process exited/);
    await close();
  });

  it("answers every session's in-flight request when the user's shared child exits (STDIO_CHILD_PER=user)", async () => {
    proxy = await startService('stdio-proxy', { env: { MCP_SERVICE: 'everything', STDIO_CHILD_PER: 'user' } });
    const url = `${proxy.url}/mcp`;
    const pid = proxy.child.pid;
    const other = await connectMcp(url, ALICE);
    const otherCall = other.client.callTool(LONG_CALL).then(
      () => new Error('the call succeeded'),
      (reason: Error) => reason,
    );
    expect(childrenOf(pid)).toHaveLength(1);
    const { error, close } = await killMidCall(url, ALICE, () => {
      for (const child of childrenOf(pid)) process.kill(child, 'SIGKILL');
    });
    expect(error.message).toMatch(/MCP error -32603: The MCP server process exited/);
    expect((await otherCall).message).toMatch(/MCP error -32603: The MCP server process exited/);
    await Promise.all([close(), other.client.close()]);
  });

  it("answers a 2026-07-28 request in flight with a JSON-RPC error when the user's child exits", async () => {
    proxy = await startService('stdio-proxy', { env: { MCP_SERVICE: 'everything' } });
    const pid = proxy.child.pid;
    const call = postMcp(
      `${proxy.url}/mcp`,
      {
        jsonrpc: '2.0',
        id: 'long',
        method: 'tools/call',
        params: {
          ...LONG_CALL,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'raw-e2e', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      },
      {
        ...ALICE,
        accept: 'application/json',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': LONG_CALL.name,
      },
    );
    await waitFor(() => childrenOf(pid).length === 1);
    await waitFor(() => /child everything\/github:1 \(2026-07-28\) started/.test(proxy?.output() ?? ''));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // initialized, the call forwarded
    for (const child of childrenOf(pid)) process.kill(child, 'SIGKILL');
    // Within seconds, not the call's 60 s: the proxy noticed the exit and answered.
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      call.then(async (response) => ({ status: response.status, body: await response.json() })),
      new Promise((resolve) => (timer = setTimeout(() => resolve('no answer within 15 s'), 15_000))),
    ]);
    clearTimeout(timer);
    // The 2025 path's error for the same event (a session's child that exits mid-call).
    expect(answer).toEqual({
      status: 200,
      body: { jsonrpc: '2.0', id: 'long', error: { code: -32603, message: 'The MCP server process exited' } },
    });
    await waitFor(() => /child everything\/github:1 \(2026-07-28\) ended/.test(proxy?.output() ?? ''));
  }, 40_000);
});

describe('stdio-proxy: ids and deadlines', () => {
  let proxy: ServiceProcess;
  let url: string;
  beforeAll(async () => {
    proxy = await startService('stdio-proxy', { env: { MCP_SERVICE: 'everything', STDIO_REQUEST_TIMEOUT: '2' } });
    url = `${proxy.url}/mcp`;
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  const post = (sessionId: string, message: object) =>
    postMcp(url, message, {
      ...ALICE,
      accept: 'application/json',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    });

  it('refuses a request id already in flight with a JSON-RPC error on its own response; the first gets its answer', async () => {
    const { sessionId } = await openSession(url, ALICE);
    const call = { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 1 } };
    // Over SSE the headers arrive once the proxy has taken the request: from then on it is in flight.
    const first = await postMcp(
      url,
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: call },
      { ...ALICE, 'mcp-session-id': sessionId as string, 'mcp-protocol-version': '2025-11-25' },
    );
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    const duplicate = await post(sessionId as string, { jsonrpc: '2.0', id: 7, method: 'ping' });
    expect(duplicate.status).toBe(400);
    expect(await duplicate.json()).toMatchObject({ error: { code: -32600, message: expect.stringContaining('7') } });
    const events = (await first.text()).split('\n').filter((line) => line.startsWith('data: '));
    // Notifications the server sends meanwhile (server-everything announces tools/list_changed) may share the
    // stream; the responses on it are exactly the first request's answer.
    const responses = events.map((line) => JSON.parse(line.slice(6)) as object).filter((message) => 'id' in message);
    expect(responses).toEqual([
      { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: expect.stringContaining('completed') }] } },
    ]);
    // Once answered, the id is free again.
    expect(await (await post(sessionId as string, { jsonrpc: '2.0', id: 7, method: 'ping' })).json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: {},
    });
  });

  it('ends a request the child does not answer within STDIO_REQUEST_TIMEOUT with a JSON-RPC error', async () => {
    const { sessionId } = await openSession(url, ALICE);
    const call = { name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 1 } };
    const response = await post(sessionId as string, {
      jsonrpc: '2.0',
      id: 'slow',
      method: 'tools/call',
      params: call,
    });
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 'slow',
      error: { code: -32001, message: 'Request timed out: no answer within 2 s' },
    });
    // The session goes on.
    expect((await ping(url, sessionId as string, ALICE)).status).toBe(200);
  });
});

describe('stdio-proxy capacity', () => {
  let proxy: ServiceProcess | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it('ends a session that never made a request after MCP_SESSION_UNUSED_TIMEOUT, keeping sessions in use', async () => {
    proxy = await startService('stdio-proxy', {
      env: {
        MCP_SERVICE: 'everything',
        STDIO_CHILD_PER: 'session',
        MCP_SESSION_UNUSED_TIMEOUT: '1',
        MCP_SESSION_IDLE_TIMEOUT: '600',
      },
    });
    const url = `${proxy.url}/mcp`;
    const unused = await openSession(url, ALICE);
    const used = await openSession(url, BOB);
    expect((await ping(url, used.sessionId as string, BOB)).status).toBe(200);
    const pid = proxy.child.pid;
    await waitFor(() => childrenOf(pid).length === 1, 15_000);
    expect((await ping(url, unused.sessionId as string, ALICE)).status).toBe(404);
    expect((await ping(url, used.sessionId as string, BOB)).status).toBe(200);
  });

  it('refuses a new child with 503 once the sampled memory of the children reaches STDIO_MEMORY_BUDGET_MB', async () => {
    proxy = await startService('stdio-proxy', {
      env: {
        MCP_SERVICE: 'everything',
        STDIO_MEMORY_BUDGET_MB: '1', // below one child: the first is admitted (nothing sampled yet), then none
        STDIO_MEMORY_SAMPLE_INTERVAL: '1',
        STDIO_MAX_CHILDREN_PER_USER: '100',
      },
    });
    const url = `${proxy.url}/mcp`;
    expect((await openSession(url, ALICE)).sessionId).toBeTruthy();
    let refused: Response | undefined;
    await waitFor(async () => {
      const attempt = await openSession(url, ALICE);
      if (attempt.sessionId === null) refused = attempt.response;
      return refused !== undefined;
    }, 15_000);
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBe('30');
    expect(await refused?.json()).toMatchObject({ error: { message: expect.stringContaining('memory budget') } });
    // The warning is logged beside the answer, not before it: wait for the log line to arrive.
    const warning = /memory budget: children use \d+ MB of 1 MB/;
    await waitFor(() => warning.test(proxy?.output() ?? ''), 5_000).catch(() => undefined);
    expect(proxy.output()).toMatch(warning);
  });
});
