// Per-tool authorization through the dev edge (docs/authorization.md), for a native service (echo-stateless) and
// a wrapped one (filesystem), in both MCP eras, with the official SDK clients: allowed calls, the exact 403
// step-up challenge, a step-up whose consent asks only for the new scope, filtered lists, tools hidden from a
// user the policy never grants, and the audit stream.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
  UnauthorizedError as UnauthorizedErrorV2,
} from '@modelcontextprotocol/client';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { completeAuthorization, connectWithOAuth, TestOAuthProvider } from './support/oauth-client';

/** The operator's policy of this suite: echo's diagnostics and filesystem's write only for alice, by step-up. */
const POLICY = {
  services: {
    'echo-stateless': {
      scopes: { diagnostics: { description: 'See the request headers and token claims this service receives' } },
      grants: { diagnostics: ['dev:alice'] },
    },
    filesystem: { grants: { write: ['dev:alice'] } },
  },
};

interface Case {
  readonly service: 'echo-stateless' | 'filesystem';
  /** Needs only what the first authorization grants. */
  readonly allowed: { readonly name: string; readonly arguments: Record<string, unknown> };
  /** Needs `scope`, which alice gets by step-up and bob never. */
  /** Its arguments, given the allowed call's answer (filesystem: the user's own directory). */
  readonly guarded: { readonly name: string; readonly arguments: (allowed: string) => Record<string, unknown> };
  readonly initial: string;
  readonly scope: string;
}

const CASES: readonly Case[] = [
  {
    service: 'echo-stateless',
    allowed: { name: 'echo', arguments: { message: 'hi' } },
    guarded: { name: 'bearerDecode', arguments: () => ({}) },
    initial: 'mcp',
    scope: 'echo-stateless:diagnostics',
  },
  {
    service: 'filesystem',
    allowed: { name: 'list_allowed_directories', arguments: {} },
    guarded: {
      name: 'write_file',
      arguments: (allowed) => ({
        path: `${allowed.split('\n').find((line) => line.startsWith('/')) ?? '/nowhere'}/step-up-${Math.random().toString(36).slice(2)}.txt`,
        content: 'written',
      }),
    },
    initial: 'mcp filesystem:read',
    scope: 'filesystem:write',
  },
];

let gateway: RunningGateway;
let dir: string;
let auditFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authorization-e2e-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  auditFile = join(dir, 'audit.jsonl');
  gateway = await startGateway({
    ...enableOnly('echo-stateless', 'filesystem'),
    MCP_POLICY_FILE: policyFile,
    AUDIT_LOG_FILE: auditFile,
  });
}, 200_000);

afterAll(async () => {
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const urlOf = (service: string) => gateway.mcpUrls.get(service) ?? '';
const metadataUrlOf = (service: string) => `${gateway.url}/.well-known/oauth-protected-resource/${service}/mcp`;
const challengeFor = (testCase: Case) =>
  `Bearer error="insufficient_scope", error_description="this request needs the scope ${testCase.scope}", ` +
  `scope="${testCase.initial} ${testCase.scope}", resource_metadata="${metadataUrlOf(testCase.service)}"`;

/** A fetch that keeps the WWW-Authenticate of every 401/403 the SDK meets. */
function challengeRecorder(challenges: string[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 401 || response.status === 403)
      challenges.push(`${response.status} ${response.headers.get('www-authenticate') ?? ''}`);
    return response;
  };
}

/** The scopes the consent page asks for now ("It may") and those it shows as already allowed. */
function consentScopes(html: string): { asked: string[]; already: string[] } {
  const { document } = parseHTML(html);
  const listAfter = (title: string) => {
    const dt = [...document.querySelectorAll('dt')].find((node) => node.textContent === title);
    return [...(dt?.nextElementSibling?.querySelectorAll('small') ?? [])].map((node) =>
      (node.textContent ?? '').replace(/[()]/g, ''),
    );
  };
  return { asked: listAfter('It may'), already: listAfter('Already allowed') };
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitForAudit(match: Record<string, unknown>): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = auditLines().find((line) => Object.entries(match).every(([key, value]) => line[key] === value));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no audit line ${JSON.stringify(match)} in:\n${readFileSync(auditFile, 'utf8')}`);
}

/** Where the SDK sent the person last (it calls `redirectToAuthorization`). */
function authorizationUrlOf(provider: TestOAuthProvider): URL {
  if (!provider.authorizationUrl) throw new Error('the client did not start an authorization');
  return provider.authorizationUrl;
}

const textOf = (result: unknown) =>
  ((result as { content?: Array<{ type: string; text?: string }> }).content ?? [])
    .map((item) => item.text ?? '')
    .join('\n');

describe('the catalog policy in the metadata and the first challenge', () => {
  it.each(CASES)('$service: scopes_supported lists its scopes, the 401 names the initial ones', async (testCase) => {
    const metadata = (await (await fetch(metadataUrlOf(testCase.service))).json()) as { scopes_supported: string[] };
    expect(metadata.scopes_supported).toContain(testCase.scope);
    expect(metadata.scopes_supported).not.toContain('offline_access');
    const refused = await fetch(urlOf(testCase.service), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(
      `Bearer scope="${testCase.initial}", resource_metadata="${metadataUrlOf(testCase.service)}"`,
    );
  });
});

describe.each(CASES)('$service, MCP SDK v1 (2025-11-25): step-up', (testCase) => {
  it('allows the initial scope, challenges the guarded tool, and succeeds after consenting to the new scope only', async () => {
    const challenges: string[] = [];
    const fetchFn = challengeRecorder(challenges);
    const provider = new TestOAuthProvider({ refresh: false });
    const { client } = await connectWithOAuth(urlOf(testCase.service), 'alice', [], fetchFn, provider);
    try {
      expect(provider.tokens()?.scope).toBe(testCase.initial);
      const allowed = textOf(await client.callTool(testCase.allowed));
      expect(allowed).not.toBe('');
      // alice may be granted the scope: the tool is listed, and calling it asks for step-up.
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain(testCase.guarded.name);
      const guarded = { name: testCase.guarded.name, arguments: testCase.guarded.arguments(allowed) };
      await expect(client.callTool(guarded)).rejects.toBeInstanceOf(UnauthorizedError);
      expect(challenges.at(-1)).toBe(`403 ${challengeFor(testCase)}`);
      expect(authorizationUrlOf(provider).searchParams.get('scope')).toBe(`${testCase.initial} ${testCase.scope}`);

      const consentPages: string[] = [];
      const redirect = await completeAuthorization(authorizationUrlOf(provider), 'alice', fetch, { consentPages });
      expect(consentPages).toHaveLength(1);
      expect(consentScopes(consentPages[0] as string)).toEqual({
        asked: [testCase.scope],
        already: testCase.initial.split(' '),
      });
      await (client.transport as StreamableHTTPClientTransport).finishAuth(redirect.searchParams.get('code') ?? '');
      expect(provider.tokens()?.scope).toBe(`${testCase.initial} ${testCase.scope}`);
      const result = await client.callTool(guarded);
      expect(result.isError ?? false).toBe(false);
      await waitForAudit({
        service: testCase.service,
        tool: testCase.guarded.name,
        era: 'legacy',
        decision: 'refused',
        reason: 'insufficient_scope',
      });
      await waitForAudit({
        service: testCase.service,
        tool: testCase.guarded.name,
        era: 'legacy',
        decision: 'allowed',
        reason: 'granted',
      });
    } finally {
      await client.close();
    }
  });
});

describe.each(CASES)('$service, MCP SDK v2 pinned to 2026-07-28: /verify decides', (testCase) => {
  it('challenges from Mcp-Method/Mcp-Name at the edge, re-authorizes for the union, and the retry succeeds', async () => {
    const challenges: string[] = [];
    const fetchFn = challengeRecorder(challenges);
    const provider = new TestOAuthProvider();
    const connect = async () => {
      const client = new ClientV2(
        { name: 'authorization-e2e', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      const transport = new StreamableHTTPClientTransportV2(new URL(urlOf(testCase.service)), {
        authProvider: provider,
        fetch: fetchFn,
      });
      await client.connect(transport);
      return { client, transport };
    };
    // First authorization (the 401 names the initial scopes).
    await expect(connect()).rejects.toBeInstanceOf(UnauthorizedErrorV2);
    let redirect = await completeAuthorization(authorizationUrlOf(provider), 'alice');
    await new StreamableHTTPClientTransportV2(new URL(urlOf(testCase.service)), {
      authProvider: provider,
      fetch: fetchFn,
    }).finishAuth(redirect.searchParams);
    const { client, transport } = await connect();
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const allowed = textOf(await client.callTool(testCase.allowed));
      expect(allowed).not.toBe('');
      const guarded = { name: testCase.guarded.name, arguments: testCase.guarded.arguments(allowed) };
      provider.authorizationUrl = undefined;
      await expect(client.callTool(guarded)).rejects.toBeInstanceOf(UnauthorizedErrorV2);
      expect(challenges.at(-1)).toBe(`403 ${challengeFor(testCase)}`);
      expect(authorizationUrlOf(provider).searchParams.get('scope')?.split(' ').sort()).toEqual(
        [
          ...testCase.initial.split(' '),
          testCase.scope,
          ...(provider.tokens()?.scope?.includes('offline_access') ? ['offline_access'] : []),
        ].sort(),
      );
      const consentPages: string[] = [];
      redirect = await completeAuthorization(authorizationUrlOf(provider), 'alice', fetch, { consentPages });
      expect(consentScopes(consentPages[0] as string).asked).toEqual([testCase.scope]);
      // The edge refused it (auth's /verify writes the audit line; the service never saw the call).
      await waitForAudit({
        service: testCase.service,
        tool: testCase.guarded.name,
        era: 'modern',
        decision: 'refused',
        reason: 'insufficient_scope',
      });
      await transport.finishAuth(redirect.searchParams);
      const result = await client.callTool(guarded);
      expect(result.isError ?? false).toBe(false);
      await waitForAudit({
        service: testCase.service,
        tool: testCase.guarded.name,
        era: 'modern',
        decision: 'allowed',
      });
    } finally {
      await client.close();
    }
  });
});

describe.each(CASES)('$service: a user the policy never grants the scope', (testCase) => {
  let token = '';
  beforeAll(async () => {
    const { client, provider } = await connectWithOAuth(urlOf(testCase.service), 'bob', []);
    token = provider.tokens()?.access_token ?? '';
    await client.close();
  });

  /** What either SDK client shows bob: the guarded tool not listed, and unknown when called; audited per era. */
  async function expectHidden(
    client: Pick<Client, 'listTools' | 'callTool' | 'close'> | Pick<ClientV2, 'listTools' | 'callTool' | 'close'>,
    era: 'legacy' | 'modern',
  ): Promise<void> {
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toContain(testCase.allowed.name);
      expect(tools).not.toContain(testCase.guarded.name);
      await expect(
        client.callTool({ name: testCase.guarded.name, arguments: testCase.guarded.arguments('') }),
      ).rejects.toThrow(`Unknown tool: ${testCase.guarded.name}`);
      await waitForAudit({
        service: testCase.service,
        tool: testCase.guarded.name,
        user: 'dev:bob',
        era,
        reason: 'not_granted',
      });
    } finally {
      await client.close();
    }
  }

  it('SDK v1 (2025-11-25): the guarded tool is not listed and answers as an unknown tool', async () => {
    const client = new Client({ name: 'authorization-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(urlOf(testCase.service)), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    await expectHidden(client, 'legacy');
  });

  it('SDK v2 (2026-07-28): the same list and the same unknown tool', async () => {
    const client = new ClientV2(
      { name: 'authorization-e2e', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new StreamableHTTPClientTransportV2(new URL(urlOf(testCase.service)), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    await expectHidden(client, 'modern');
  });

  it('asking for the scope ends with access_denied at consent time, not a loop', async () => {
    const provider = new TestOAuthProvider();
    const refused = await new Client({ name: 'authorization-e2e', version: '1.0.0' })
      .connect(new StreamableHTTPClientTransport(new URL(urlOf(testCase.service)), { authProvider: provider }))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UnauthorizedError);
    const url = new URL(authorizationUrlOf(provider));
    url.searchParams.set('scope', `${testCase.initial} ${testCase.scope}`);
    const forms: string[] = [];
    const redirect = await completeAuthorization(url, 'bob', fetch, { forms });
    expect(forms).toEqual(['login']);
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('error_description')).toBe(`you may not be granted ${testCase.scope}`);
  });
});

describe('policy errors at boot', () => {
  it('npm start refuses a policy naming an unknown scope or a choosable identifier, saying which and why', async () => {
    const bad = join(dir, 'bad-policy.json');
    writeFileSync(
      bad,
      JSON.stringify({ services: { filesystem: { tools: { write_file: 'admin' }, grants: { write: ['octocat'] } } } }),
    );
    const failure = await startGateway({ ...enableOnly('filesystem'), MCP_POLICY_FILE: bad }).then(
      async (started) => {
        await started.stop();
        return '';
      },
      (error: unknown) => String(error),
    );
    expect(failure).toContain(
      'MCP_POLICY_FILE: services.filesystem.tools.write_file: "admin" is not a scope of filesystem (read, write)',
    );
    expect(failure).toContain('MCP_POLICY_FILE: services.filesystem.grants.write: "octocat" is not a principal');
  }, 60_000);
});
