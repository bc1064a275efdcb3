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

/** What the edge adds after ForwardAuth (x-user-*, x-client-id, x-scope), plus a bearer JWT it forwards. */
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const JWT = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'key-1' })}.${b64({ sub: 'github:42', client_id: 'client-1', exp: 4102444800 })}.c2lnbmF0dXJl`;
const EDGE_HEADERS = {
  'x-user-id': 'github:42',
  'x-user-name': 'octocat',
  'x-user-email': 'octocat@example.com',
  'x-client-id': 'client-1',
  'x-scope': 'mcp echo-stateless:diagnostics',
  'x-forwarded-proto': 'https',
  authorization: `Bearer ${JWT}`,
  cookie: 'session=cookie-secret-value',
};
const ALLOWED_ORIGIN = 'https://inspector.example';

const textOf = (result: unknown): string =>
  ((result as { content: { text: string }[] }).content ?? []).map((item) => item.text).join('\n');

describe('echo-stateless over MCP Streamable HTTP', () => {
  let service: ServiceProcess;
  let mcpUrl: string;
  let connection: McpConnection;
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<string> =>
    textOf(await connection.client.callTool({ name, arguments: args }));

  beforeAll(async () => {
    const port = await freePort();
    service = await startService('echo-stateless', {
      env: {
        PORT: String(port),
        // dns-rebinding-protection (conformance) expects the server's own localhost origin to be accepted.
        MCP_ALLOWED_ORIGINS: `${ALLOWED_ORIGIN},http://localhost:${port}`,
        MCP_MAX_BODY_BYTES: '65536',
        GITHUB_CLIENT_SECRET: 'gh-secret-must-not-show',
      },
    });
    mcpUrl = `${service.url}/mcp`;
    connection = await connectMcp(mcpUrl, EDGE_HEADERS);
  });

  afterAll(async () => {
    await connection?.client.close();
    await service?.stop();
  });

  it('lists the nine tools, each with an input schema', async () => {
    const { tools } = await connection.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      [
        'authContext',
        'bearerDecode',
        'corsAnalysis',
        'echo',
        'environmentDump',
        'healthProbe',
        'printHeader',
        'requestTiming',
        'whoIStheGOAT',
      ].sort(),
    );
    for (const tool of tools) expect(tool.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(connection.transport.sessionId).toBeUndefined();
  });

  it('echo returns the message; a wrong argument is a tool error', async () => {
    expect(await call('echo', { message: 'hello gateway' })).toBe('hello gateway');
    const wrong = await connection.client.callTool({ name: 'echo', arguments: { message: 42 } });
    expect(wrong.isError).toBe(true);
  });

  it('printHeader groups the headers and never prints a credential', async () => {
    const text = await call('printHeader');
    expect(text).toMatch(/Edge \(proxy\) headers:\n {2}x-forwarded-proto: https/);
    expect(text).toContain('x-user-id: github:42');
    expect(text).toContain(`authorization: Bearer [redacted, ${JWT.length} chars]`);
    expect(text).toContain('cookie: [redacted values] cookies: session');
    expect(text).not.toContain(JWT);
    expect(text).not.toContain('cookie-secret-value');
  });

  it('bearerDecode shows the JWT header and claims but not the signature', async () => {
    const text = await call('bearerDecode');
    expect(text).toContain('kid: key-1');
    expect(text).toContain('sub: "github:42"');
    expect(text).toMatch(/exp: 2100-01-01T00:00:00.000Z \(in \d+h\)/);
    expect(text).toContain('Status: not expired');
    expect(text).not.toContain('c2lnbmF0dXJl');
  });

  it('authContext and whoIStheGOAT read the identity the edge forwarded', async () => {
    const context = await call('authContext');
    expect(context).toContain('user id: github:42');
    expect(context).toContain('client id: client-1');
    expect(context).toContain(`bearer token: present (${`Bearer ${JWT}`.length} chars, not shown)`);
    expect(context).toContain('HTTPS at the edge: yes');
    expect(context).not.toContain(JWT);
    expect(await call('whoIStheGOAT')).toContain('the GOAT is octocat');
  });

  it('requestTiming, corsAnalysis, environmentDump and healthProbe report without leaking secrets', async () => {
    expect(await call('requestTiming')).toMatch(/elapsed in service: [\d.]+ ms \((excellent|good|acceptable|slow)\)/);
    expect(await call('corsAnalysis')).toContain('no Origin header: a non-browser client, allowed');
    const environment = await call('environmentDump');
    expect(environment).toContain('MCP_MAX_BODY_BYTES: 65536');
    expect(environment).not.toContain('gh-secret-must-not-show');
    expect(environment).not.toContain('GITHUB_CLIENT_SECRET');
    expect(await call('healthProbe')).toContain('Status: HEALTHY');
  });

  it('negotiates every supported protocol version and answers an unknown one with 2025-11-25', async () => {
    for (const [asked, answered] of [
      ['2025-11-25', '2025-11-25'],
      ['2025-06-18', '2025-06-18'],
      ['2025-03-26', '2025-03-26'],
      ['2024-11-05', '2024-11-05'],
      ['2030-01-01', '2025-11-25'],
    ]) {
      const response = await postMcp(mcpUrl, initializeRequest(asked as string), { accept: 'application/json' });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe(
        answered,
      );
    }
    expect(
      (await postMcp(mcpUrl, initializeRequest('2025-11-25'), { 'mcp-protocol-version': '2023-01-01' })).status,
    ).toBe(400);
  });

  it('refuses a foreign Origin with 403 and accepts an allowed one', async () => {
    const foreign = await postMcp(mcpUrl, initializeRequest('2025-11-25'), { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    expect((await postMcp(mcpUrl, initializeRequest('2025-11-25'), { origin: ALLOWED_ORIGIN })).status).toBe(200);
    // The gateway's own public origin (PUBLIC_URL, default http://localhost:8080) is always allowed.
    expect((await postMcp(mcpUrl, initializeRequest('2025-11-25'), { origin: 'http://localhost:8080' })).status).toBe(
      200,
    );
    const browser = await connectMcp(mcpUrl, { origin: ALLOWED_ORIGIN });
    expect(await browser.client.callTool({ name: 'corsAnalysis', arguments: {} }).then(textOf)).toContain(
      'allowed (listed in MCP_ALLOWED_ORIGINS)',
    );
    await browser.client.close();
  });

  it('answers client mistakes with 4xx and a JSON-RPC error, never 5xx', async () => {
    const malformed = await postMcp(mcpUrl, '{"jsonrpc": "2.0", "id": 1,');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: -32700 } });
    expect(
      (await postMcp(mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list', pad: 'x'.repeat(70_000) })).status,
    ).toBe(413);
    expect((await postMcp(mcpUrl, initializeRequest('2025-11-25'), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await postMcp(mcpUrl, { not: 'json-rpc' })).status).toBe(400);
    const get = await fetch(mcpUrl, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect((await fetch(mcpUrl, { method: 'DELETE' })).status).toBe(405);
    const notification = await postMcp(mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(notification.status).toBe(202);
    expect((await postMcp(`${mcpUrl}/`, initializeRequest('2025-11-25'))).status).toBe(200);
  });

  it('passes the transport-level conformance scenarios (summary in the output)', async () => {
    const run = await runConformance(`http://localhost:${service.port}/mcp`);
    process.stdout.write(
      `[echo-stateless-e2e] conformance suite against echo-stateless (no fixture tools):\n${run.summary}\n`,
    );
    for (const scenario of ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']) {
      expect(run.scenarios.some((result) => result.scenario === scenario)).toBe(true);
      expect(run.failedScenarios).not.toContain(scenario);
    }
  }, 180_000);
});
