// The official MCP conformance suite against the conformance fixture, served directly and behind the gateway
// (dev edge + ForwardAuth, a real token from the OAuth flow injected into the CLI): the same scenarios pass. And its
// authorization-server scenarios against auth through the edge, without a warning.
import { join } from 'node:path';
import {
  type ConformanceRun,
  freePort,
  runAuthorizationConformance,
  runConformance,
  type ServiceProcess,
  startService,
} from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { completeAuthorization, connectWithOAuth } from './support/oauth-client';

/**
 * dns-rebinding-protection sends its requests with undici's `request`, which the bearer preload does not reach
 * (docs/deployment.md, "gateway-e2e"), so behind the gateway it meets a 401 and cannot pass. (The preload does reach
 * the node:http requests of the 2026-07-28 http-header-validation cases, so that scenario is compared.)
 */
const NEEDS_NO_TOKEN = ['dns-rebinding-protection'];
/** The fixture stands behind a catalog entry, since /verify only admits tokens for catalog resources. */
const SLOT = 'echo-stateless';

const passedScenarios = (run: ConformanceRun) =>
  run.scenarios.map((result) => result.scenario).filter((scenario) => !run.failedScenarios.includes(scenario));

describe('conformance server: the fixture directly and behind the gateway', () => {
  let fixture: ServiceProcess;
  let gateway: RunningGateway;

  beforeAll(async () => {
    const fixturePort = await freePort();
    const edgePort = await freePort();
    fixture = await startService('tools/conformance-fixture', {
      env: {
        PORT: String(fixturePort),
        MCP_ALLOWED_ORIGINS: `http://localhost:${fixturePort},http://127.0.0.1:${edgePort}`,
      },
    });
    gateway = await startGateway(
      { ...enableOnly(SLOT), MCP_ECHO_STATELESS_UPSTREAM: fixture.url },
      { edgePort, skip: [SLOT] },
    );
  }, 240_000);

  afterAll(async () => {
    await gateway?.stop();
    await fixture?.stop();
  });

  it('passes the same scenarios through the edge (token injected) as served directly', async () => {
    const direct = await runConformance(`http://localhost:${fixture.port}/mcp`);
    const mcpUrl = gateway.mcpUrls.get(SLOT) ?? '';
    const { client, provider } = await connectWithOAuth(mcpUrl, 'alice', []);
    await client.close();
    const behind = await runConformance(mcpUrl, [], {
      nodeArgs: ['--import', join(__dirname, 'support/inject-bearer.mjs')],
      env: { MCP_BEARER: provider.tokens()?.access_token ?? '', MCP_BEARER_PREFIX: gateway.url },
    });
    process.stdout.write(
      `[gateway-e2e] conformance, fixture directly:\n${direct.summary}\n[gateway-e2e] conformance, fixture behind the dev edge + ForwardAuth:\n${behind.summary}\n`,
    );

    expect(direct.failedScenarios).toEqual([]);
    const expected = passedScenarios(direct).filter((scenario) => !NEEDS_NO_TOKEN.includes(scenario));
    expect(expected.length).toBeGreaterThanOrEqual(25);
    expect(passedScenarios(behind).filter((scenario) => !NEEDS_NO_TOKEN.includes(scenario))).toEqual(expected);
  }, 600_000);

  it('passes the same 2026-07-28 requirements through the edge (token injected) as served directly', async () => {
    const modern = ['--requirements', '2026-07-28'];
    const direct = await runConformance(`http://localhost:${fixture.port}/mcp`, [], { args: modern });
    const mcpUrl = gateway.mcpUrls.get(SLOT) ?? '';
    const { client, provider } = await connectWithOAuth(mcpUrl, 'alice', []);
    await client.close();
    const behind = await runConformance(mcpUrl, [], {
      args: modern,
      nodeArgs: ['--import', join(__dirname, 'support/inject-bearer.mjs')],
      env: { MCP_BEARER: provider.tokens()?.access_token ?? '', MCP_BEARER_PREFIX: gateway.url },
    });
    process.stdout.write(
      `[gateway-e2e] 2026-07-28, fixture directly:\n${direct.summary}\n[gateway-e2e] 2026-07-28, fixture behind the dev edge + ForwardAuth:\n${behind.summary}\n`,
    );
    const expected = passedScenarios(direct).filter((scenario) => !NEEDS_NO_TOKEN.includes(scenario));
    expect(expected).toEqual(
      expect.arrayContaining([
        'http-header-validation',
        'caching',
        'sep-2164-resource-not-found',
        'tools-call-with-progress',
      ]),
    );
    expect(passedScenarios(behind).filter((scenario) => !NEEDS_NO_TOKEN.includes(scenario))).toEqual(expected);
  }, 600_000);

  // The gateway's issuer with `resource`, and the service's own issuer without it (docs/auth.md "One authorization
  // server per service"): both must pass every check, with no WARNING (client_id_metadata_document_supported is one).
  it.each([
    ['the gateway issuer, with resource', (): string => gateway.url, true],
    ["the service's own issuer, without resource", (): string => `${gateway.url}/as/${SLOT}`, false],
  ])(
    'passes the authorization-server scenarios at %s, without warnings',
    async (_name, issuerOf, withResource) => {
      const callbackPort = await freePort();
      const redirectUri = `http://127.0.0.1:${callbackPort}/callback`;
      const registered = await fetch(`${gateway.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }),
      });
      const { client_id: clientId } = (await registered.json()) as { client_id: string };
      const run = await runAuthorizationConformance(issuerOf(), {
        clientId,
        callbackPort,
        ...(withResource ? { resource: gateway.mcpUrls.get(SLOT) ?? '' } : {}),
        signIn: (url) => completeAuthorization(url, 'conformance', fetch, { redirectPrefix: redirectUri }),
      });
      process.stdout.write(`[gateway-e2e] authorization-server conformance at ${issuerOf()}:\n${run.summary}\n`);
      expect(run.scenarios.map((result) => result.scenario)).toEqual([
        'authorization-code-grant',
        'authorization-server-metadata-endpoint',
      ]);
      const statuses = run.scenarios.flatMap((result) => result.checks.map((check) => `${check.id}: ${check.status}`));
      expect(statuses).toEqual(statuses.map((line) => line.replace(/: \w+$/, ': SUCCESS')));
      expect(run.passed).toBeGreaterThanOrEqual(3);
    },
    180_000,
  );
});
