import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  connectMcp,
  freePort,
  runConformance,
  excludedIn2026,
  type ServiceProcess,
  startService,
  WORKSPACE_ROOT,
} from '@gateway/testing';

describe('conformance fixture', () => {
  let http: ServiceProcess;

  beforeAll(async () => {
    const port = await freePort();
    // dns-rebinding-protection expects the localhost Origin of the URL under test to be accepted.
    http = await startService('tools/conformance-fixture', {
      env: { PORT: String(port), MCP_ALLOWED_ORIGINS: `http://localhost:${port}` },
    });
  });

  afterAll(async () => {
    await http?.stop();
  });

  it('served over HTTP by mcp-session, passes every active scenario of the official suite', async () => {
    const run = await runConformance(`http://localhost:${http.port}/mcp`);
    process.stdout.write(
      `[conformance-fixture-e2e] conformance suite against the fixture over mcp-session:\n${run.summary}\n`,
    );
    expect(run.failedScenarios).toEqual([]);
    expect(run.scenarios.length).toBeGreaterThanOrEqual(30);
    expect({ passed: run.passed, failed: run.failed }).toEqual({ passed: 73, failed: 0 });
  }, 300_000);

  it('served over HTTP by mcp-session, passes the 2026-07-28 requirements except the named exclusions', async () => {
    const run = await runConformance(`http://localhost:${http.port}/mcp`, [], {
      args: ['--requirements', '2026-07-28'],
    });
    process.stdout.write(`[conformance-fixture-e2e] 2026-07-28 requirements against the fixture:\n${run.summary}\n`);
    const unexpected = run.scenarios.flatMap(({ scenario, checks }) =>
      checks
        .filter((check) => check.status === 'FAILURE' && !excludedIn2026(scenario, check))
        .map((check) => `${scenario}/${check.id}: ${check.errorMessage ?? ''}`),
    );
    expect(unexpected).toEqual([]);
    // The transport scenarios of the new revision are all in and pass.
    for (const scenario of ['server-stateless', 'http-header-validation', 'caching', 'sep-2164-resource-not-found']) {
      expect(run.scenarios.map((result) => result.scenario)).toContain(scenario);
    }
  }, 300_000);

  it('serves the same tools, resources and prompts over stdio, including a sampling round trip', async () => {
    const stdio = new Client({ name: 'e2e-stdio', version: '1.0.0' }, { capabilities: { sampling: {} } });
    stdio.setRequestHandler(CreateMessageRequestSchema, (request) => ({
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text: `echo of ${JSON.stringify(request.params.messages[0]?.content)}` },
    }));
    await stdio.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(WORKSPACE_ROOT, 'dist/tools/conformance-fixture/src/stdio.js')],
        stderr: 'pipe',
      }),
    );
    const overHttp = await connectMcp(`${http.url}/mcp`);
    try {
      const names = async (client: Client): Promise<string[][]> => [
        (await client.listTools()).tools.map((tool) => tool.name).sort(),
        (await client.listResources()).resources.map((resource) => resource.uri).sort(),
        (await client.listPrompts()).prompts.map((prompt) => prompt.name).sort(),
      ];
      const viaStdio = await names(stdio);
      expect(viaStdio[0]).toContain('test_simple_text');
      expect(viaStdio).toEqual(await names(overHttp.client));
      expect(await stdio.callTool({ name: 'test_simple_text', arguments: {} })).toEqual({
        content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
      });
      expect(await stdio.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } })).toMatchObject({
        content: [{ type: 'text', text: 'LLM response: echo of {"type":"text","text":"hi"}' }],
      });
    } finally {
      await stdio.close();
      await overHttp.client.close();
    }
  });
});
