// The client profile matrix (docs/clients.md) through the dev edge, as raw HTTP: each profile registers the way
// its client does (RFC 7591, or a Client ID Metadata Document), authorizes with or without `resource` and with its
// own scopes, authenticates as it does (`none`, or `private_key_jwt`), gets a token on the first try, calls a tool,
// refreshes, and reconnects without a second consent. Redirect URIs are never dialled: the test reads the code from
// the authorization server's redirect. Documents are served over HTTPS on loopback; the fetcher's DNS questions go
// to a local stub, which knows no public name, so the pinned documents (Claude.ai, Goose) answer for theirs.
import { createHash, randomBytes } from 'node:crypto';
import { type DnsStub, DocumentServer, startDnsStub } from '@gateway/testing';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { completeAuthorization } from './support/oauth-client';

/** How a client gets its client_id: dynamic registration, or a metadata document whose URL is the client_id. */
type Registration =
  | { readonly dcr: Record<string, unknown> }
  /** A pinned document's URL, or one `DocumentServer` serves (draft-ietf-oauth-client-id-metadata-document). */
  | { readonly cimd: string | ((docs: DocumentServer) => string) };

interface Profile {
  readonly registration: Registration;
  /** RFC 7523 §2.2: authenticates at /token with a JWT signed by the key its document's `jwks_uri` publishes. */
  readonly privateKeyJwt?: boolean;
  /** The redirect URI presented at /authorize (a loopback one may carry any port, RFC 8252 §7.3). */
  readonly redirectUri: string;
  readonly sendsResource: boolean;
  /** `scope` at /authorize, as the client sends it (undefined: none). */
  readonly scope?: string;
  /** What the token response must say was granted. */
  readonly granted: string;
}

/** One ChatGPT connector: its document, callback and key set (ids are per connector, docs/clients.md). */
const CHATGPT_CONNECTOR = 'g-e2e-connector';

/** Sources of each profile: docs/clients.md. */
const PROFILES: Record<string, Profile> = {
  'Claude.ai (pinned CIMD, no resource, scope claudeai)': {
    registration: { cimd: 'https://claude.ai/oauth/mcp-oauth-client-metadata' },
    redirectUri: 'https://claude.ai/api/mcp/auth_callback',
    sendsResource: false,
    scope: 'claudeai',
    granted: 'mcp',
  },
  'ChatGPT (CIMD + private_key_jwt, per-connector callback)': {
    registration: { cimd: (docs) => docs.url(`/oauth/${CHATGPT_CONNECTOR}/client.json`) },
    privateKeyJwt: true,
    redirectUri: `https://chatgpt.com/connector/oauth/${CHATGPT_CONNECTOR}`,
    sendsResource: true,
    scope: 'mcp offline_access',
    granted: 'mcp offline_access',
  },
  'Goose (pinned CIMD, 127.0.0.1 any port)': {
    registration: { cimd: 'https://goose-docs.ai/oauth/client-metadata.json' },
    redirectUri: 'http://127.0.0.1:49731/oauth_callback',
    sendsResource: true,
    // No `scope`: the service's initial scopes (docs/authorization.md) and its document's grant types.
    granted: 'mcp echo-stateless:diagnostics offline_access',
  },
  'Claude Code (CIMD, port-less localhost in the document, localhost:<port> used)': {
    registration: { cimd: (docs) => docs.url('/oauth/claude-code-client-metadata') },
    redirectUri: 'http://localhost:53127/callback',
    sendsResource: true,
    scope: 'mcp offline_access',
    granted: 'mcp offline_access',
  },
  // Claude.ai before CIMD (and any client that registers): its quirks on the DCR path.
  'Claude.ai-like, DCR (no resource)': {
    registration: {
      dcr: {
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        token_endpoint_auth_method: 'none',
        client_name: 'Claude',
      },
    },
    redirectUri: 'https://claude.ai/api/mcp/auth_callback',
    sendsResource: false,
    scope: 'claudeai',
    granted: 'mcp',
  },
  'Claude Code-like (DCR, localhost any port, no scope in DCR)': {
    registration: {
      dcr: {
        redirect_uris: ['http://localhost/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'Claude Code',
      },
    },
    redirectUri: 'http://localhost:54917/callback',
    sendsResource: true,
    scope: 'mcp offline_access',
    granted: 'mcp offline_access',
  },
  'Claude Code-like, older (openid profile … scopes)': {
    registration: {
      dcr: {
        redirect_uris: ['http://localhost/callback'],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile email offline_access',
      },
    },
    redirectUri: 'http://localhost:60001/callback',
    sendsResource: true,
    scope: 'openid profile email offline_access',
    granted: 'mcp offline_access',
  },
  'VS Code-like (DCR, 127.0.0.1:33418 and vscode.dev)': {
    registration: {
      dcr: {
        redirect_uris: ['http://127.0.0.1:33418', 'https://vscode.dev/redirect'],
        token_endpoint_auth_method: 'none',
        client_name: 'Visual Studio Code',
      },
    },
    redirectUri: 'http://127.0.0.1:41873',
    sendsResource: true,
    // No `scope`: the service's initial scopes (what its 401 names, docs/authorization.md) and the registered ones.
    granted: 'mcp echo-stateless:diagnostics offline_access',
  },
  'Cursor-like (cursor:// redirect)': {
    registration: {
      dcr: {
        redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'],
        token_endpoint_auth_method: 'none',
        client_name: 'Cursor',
      },
    },
    redirectUri: 'cursor://anysphere.cursor-mcp/oauth/callback',
    sendsResource: true,
    scope: 'read write',
    granted: 'mcp',
  },
  'mcp-remote-like (openid email profile fallback)': {
    registration: {
      dcr: {
        redirect_uris: ['http://localhost:3334/oauth/callback'],
        token_endpoint_auth_method: 'none',
        client_name: 'MCP CLI Proxy',
        scope: 'openid email profile',
      },
    },
    redirectUri: 'http://localhost:3334/oauth/callback',
    sendsResource: true,
    scope: 'openid email profile',
    granted: 'mcp',
  },
  'Inspector-like (registers the PRM scopes, asks for the AS ones)': {
    registration: {
      dcr: {
        redirect_uris: ['http://localhost:6274/oauth/callback'],
        token_endpoint_auth_method: 'none',
        client_name: 'MCP Inspector',
        scope: 'mcp',
      },
    },
    redirectUri: 'http://localhost:6274/oauth/callback',
    sendsResource: true,
    scope: 'mcp offline_access',
    granted: 'mcp offline_access',
  },
};

const SERVICE = 'echo-stateless';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let gateway: RunningGateway;
let docs: DocumentServer;
let dns: DnsStub;
let chatgptKey: CryptoKey;

beforeAll(async () => {
  docs = await DocumentServer.start();
  const chatgpt = docs.url(`/oauth/${CHATGPT_CONNECTOR}/client.json`);
  const pair = await generateKeyPair('RS256');
  chatgptKey = pair.privateKey;
  docs.routes.set('/oauth/jwks.json', {
    body: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'chatgpt-e2e', alg: 'RS256', use: 'sig' }] },
  });
  // Shaped as published (docs/clients.md sources): ChatGPT's per-connector document with a jwks_uri ...
  docs.routes.set(`/oauth/${CHATGPT_CONNECTOR}/client.json`, {
    body: {
      client_id: chatgpt,
      client_name: 'ChatGPT',
      redirect_uris: [`https://chatgpt.com/connector/oauth/${CHATGPT_CONNECTOR}`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks_uri: docs.url('/oauth/jwks.json'),
    },
  });
  // ... and Claude Code's, which lists port-less loopback callbacks and is used with a port (claude-code#90370).
  docs.routes.set('/oauth/claude-code-client-metadata', {
    body: {
      client_id: docs.url('/oauth/claude-code-client-metadata'),
      client_name: 'Claude Code',
      redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
  });
  // Only `localhost` (the document server) resolves; claude.ai and goose-docs.ai get NXDOMAIN from the stub.
  dns = await startDnsStub({ localhost: ['127.0.0.1'] });
  gateway = await startGateway({
    ...enableOnly(SERVICE, 'echo-stateful'),
    CLIENT_FETCH_ALLOW_HOSTS: 'localhost',
    CLIENT_FETCH_DNS_SERVERS: dns.server,
    CLIENT_FETCH_CA_FILE: docs.caFile,
  });
}, 200_000);
afterAll(async () => {
  await gateway?.stop();
  await docs?.stop();
  await dns?.close();
});

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** An MCP request with the token: `initialize`, answered 200 when the edge and the service accept the token. */
function initialize(mcpUrl: string, token: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'profile', version: '1' } },
    }),
  });
}

describe.each(Object.entries(PROFILES))('%s', (_name, profile) => {
  it('connects on the first try, refreshes, and reconnects without a second consent', async () => {
    const mcpUrl = gateway.mcpUrls.get(SERVICE) ?? '';
    // Discovery as MCP authorization describes it: 401 → RFC 9728 metadata → RFC 8414 metadata.
    const challenge = (await fetch(mcpUrl, { method: 'POST' })).headers.get('www-authenticate') ?? '';
    const prmUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const prm = await json(await fetch(prmUrl));
    const issuer = (prm['authorization_servers'] as string[])[0] as string;
    const issuerUrl = new URL(issuer);
    const as = await json(
      await fetch(`${issuerUrl.origin}/.well-known/oauth-authorization-server${issuerUrl.pathname}`),
    );
    expect(as['issuer']).toBe(issuer);

    let clientId: string;
    if ('dcr' in profile.registration) {
      const registered = await fetch(as['registration_endpoint'] as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(profile.registration.dcr),
      });
      expect(registered.status).toBe(201);
      clientId = (await json(registered))['client_id'] as string;
    } else {
      expect(as['client_id_metadata_document_supported']).toBe(true);
      const { cimd } = profile.registration;
      clientId = typeof cimd === 'string' ? cimd : cimd(docs);
    }

    const authorize = async (forms: string[]): Promise<{ code: string; verifier: string }> => {
      const verifier = randomBytes(32).toString('base64url');
      const url = new URL(as['authorization_endpoint'] as string);
      const params: Record<string, string | undefined> = {
        client_id: clientId,
        redirect_uri: profile.redirectUri,
        response_type: 'code',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        state: 'profile',
        scope: profile.scope,
        resource: profile.sendsResource ? mcpUrl : undefined,
      };
      for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
      const back = await completeAuthorization(url, 'matrix', fetch, { redirectPrefix: profile.redirectUri, forms });
      // RFC 9207: iss is the issuer the client discovered, compared exactly.
      expect([back.searchParams.get('iss'), back.searchParams.get('state')]).toEqual([issuer, 'profile']);
      return { code: back.searchParams.get('code') ?? '', verifier };
    };
    // RFC 7523 §3: `aud` is the token endpoint URL exactly as the metadata gives it (what ChatGPT sends).
    const assertion = () =>
      new SignJWT({ jti: randomBytes(16).toString('hex') })
        .setProtectedHeader({ alg: 'RS256', kid: 'chatgpt-e2e' })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(as['token_endpoint'] as string)
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(chatgptKey);
    const token = async (form: Record<string, string>) =>
      fetch(as['token_endpoint'] as string, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: clientId,
          ...(profile.privateKeyJwt
            ? { client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion() }
            : {}),
          ...form,
        }).toString(),
      });

    const firstForms: string[] = [];
    const first = await authorize(firstForms);
    expect(firstForms).toEqual(['login', 'consent']);
    const issued = await token({
      grant_type: 'authorization_code',
      code: first.code,
      redirect_uri: profile.redirectUri,
      code_verifier: first.verifier,
      ...(profile.sendsResource ? { resource: mcpUrl } : {}),
    });
    const tokens = await json(issued);
    expect([issued.status, tokens['error_description']]).toEqual([200, undefined]);
    expect(tokens['scope']).toBe(profile.granted);
    expect((await initialize(mcpUrl, tokens['access_token'] as string)).status).toBe(200);
    // Audience-bound: the same token is refused by another service.
    expect(
      (await initialize(gateway.mcpUrls.get('echo-stateful') ?? '', tokens['access_token'] as string)).status,
    ).toBe(401);

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens['refresh_token'] as string });
    expect(refreshed.status).toBe(200);
    expect((await initialize(mcpUrl, (await json(refreshed))['access_token'] as string)).status).toBe(200);

    // Reconnect: the consent is remembered, so only the sign-in is asked again.
    const againForms: string[] = [];
    const again = await authorize(againForms);
    expect(againForms).toEqual(['login']);
    const reissued = await token({
      grant_type: 'authorization_code',
      code: again.code,
      redirect_uri: profile.redirectUri,
      code_verifier: again.verifier,
    });
    expect(reissued.status).toBe(200);
  });
});

describe('after the profiles', () => {
  it("asked the DNS stub, never the system resolver, for the pinned clients' hosts", () => {
    // The stub answered NXDOMAIN, the live fetch failed, and the pinned documents answered (the profiles above).
    expect([dns.queries.get('claude.ai'), dns.queries.get('goose-docs.ai')]).toEqual([
      expect.any(Number),
      expect.any(Number),
    ]);
  });
});
