import { type AuthUnderTest, authorizeUrl, Browser, formValue, pkce, query, startAuth } from './support/authorize-flow';

/**
 * The whole OAuth flow over HTTP as an MCP client drives it: RFC 7591 registration, /authorize with PKCE
 * and resource, dev login, consent, /token, then /verify as the edge calls it, refresh, revocation.
 */
describe('full flow: register → authorize → token → verify → refresh → revoke', () => {
  let t: AuthUnderTest;
  const REDIRECT = 'http://127.0.0.1/callback';
  const PRESENTED = 'http://127.0.0.1:47001/callback';

  beforeAll(async () => {
    t = await startAuth('full-flow');
  });
  afterAll(() => t?.stop());

  async function register(
    method: 'none' | 'client_secret_basic',
  ): Promise<{ client_id: string; client_secret?: string }> {
    const response = await fetch(`${t.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: method, client_name: 'full flow' }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { client_id: string; client_secret?: string };
  }

  async function authorize(
    clientId: string,
    resource: string | undefined,
    username: string,
    scope = 'mcp',
    issuer = t.issuer,
  ): Promise<{ code: string; verifier: string }> {
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const start = await browser.get(
      authorizeUrl(issuer, {
        client_id: clientId,
        redirect_uri: PRESENTED,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 's1',
        resource,
        scope,
      }),
    );
    const login = await browser.get(start.location as string);
    const afterLogin = await browser.post(`${t.issuer}/login/dev`, { state: formValue(login.text, 'state'), username });
    const page = await browser.get(afterLogin.location as string);
    const answer = await browser.post(`${t.issuer}/consent`, {
      request: formValue(page.text, 'request'),
      csrf: formValue(page.text, 'csrf'),
      decision: 'allow',
    });
    const params = query(answer.location);
    // RFC 9207: `iss` is the issuer the request came to.
    expect(params).toMatchObject({ state: 's1', iss: issuer, code: expect.any(String) });
    return { code: params['code'] as string, verifier };
  }

  function token(
    form: Record<string, string>,
    basic?: { id: string; secret: string },
    endpoint = `${t.issuer}/token`,
  ): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (basic)
      headers['authorization'] =
        `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
    return fetch(endpoint, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  }

  function verify(accessToken: string, service: string): Promise<Response> {
    const issuer = new URL(t.issuer);
    return fetch(`${t.issuer}/verify`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        'x-forwarded-method': 'POST',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': issuer.host,
        'x-forwarded-uri': `/${service}/mcp`,
      },
    });
  }

  it('works for a public client', async () => {
    const client = await register('none');
    const resource = `${t.issuer}/echo-stateless/mcp`;
    const { code, verifier } = await authorize(client.client_id, resource, 'carol');
    const issued = await token({
      grant_type: 'authorization_code',
      client_id: client.client_id,
      code,
      redirect_uri: PRESENTED,
      code_verifier: verifier,
      resource,
    });
    expect(issued.status).toBe(200);
    const tokens = (await issued.json()) as { access_token: string; refresh_token: string; scope: string };
    expect(tokens.scope).toBe('mcp');

    const allowed = await verify(tokens.access_token, 'echo-stateless');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('x-user-id')).toBe('dev:carol');
    expect(allowed.headers.get('x-client-id')).toBe(client.client_id);
    expect((await verify(tokens.access_token, 'echo-stateful')).status).toBe(401);

    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: client.client_id,
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect((await verify(next.access_token, 'echo-stateless')).status).toBe(200);

    const revoke = await fetch(`${t.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.client_id, token: next.refresh_token }).toString(),
    });
    expect(revoke.status).toBe(200);
    expect((await verify(next.access_token, 'echo-stateless')).status).toBe(401);
  });

  it('works for a confidential client with client_secret_basic, and not without its secret', async () => {
    const client = await register('client_secret_basic');
    expect(client.client_secret).toEqual(expect.any(String));
    const resource = `${t.issuer}/echo-stateful/mcp`;
    const grant = await authorize(client.client_id, resource, 'dave');
    const form = {
      grant_type: 'authorization_code',
      code: grant.code,
      redirect_uri: PRESENTED,
      code_verifier: grant.verifier,
    };
    const withoutSecret = await token({ ...form, client_id: client.client_id });
    expect(withoutSecret.status).toBe(401);
    const issued = await token(form, { id: client.client_id, secret: client.client_secret as string });
    expect(issued.status).toBe(200);
    const { access_token: accessToken } = (await issued.json()) as { access_token: string };
    expect((await verify(accessToken, 'echo-stateful')).status).toBe(200);
  });

  // RFC 6749 §3.3: unknown scopes are dropped, the base scope always granted, and the response says what was granted.
  it.each([
    ['openid profile email', 'mcp'],
    ['claudeai', 'mcp'],
    ['read write offline_access', 'mcp offline_access'],
    ['offline_access', 'mcp offline_access'],
  ])('grants a usable token for scope %j, stating %j', async (scope, granted) => {
    const response = await fetch(`${t.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', scope }),
    });
    expect(response.status).toBe(201);
    const client = (await response.json()) as { client_id: string; scope: string };
    expect(client.scope).toBe(granted);
    const resource = `${t.issuer}/echo-stateless/mcp`;
    const { code, verifier } = await authorize(client.client_id, resource, 'erin', scope);
    const issued = await token({
      grant_type: 'authorization_code',
      client_id: client.client_id,
      code,
      redirect_uri: PRESENTED,
      code_verifier: verifier,
      resource,
    });
    expect(issued.status).toBe(200);
    const tokens = (await issued.json()) as { access_token: string; scope: string };
    expect(tokens.scope).toBe(granted);
    expect((await verify(tokens.access_token, 'echo-stateless')).status).toBe(200);
  });

  describe("a client that omits resource, at the service's own authorization server (RFC 8414 §3.1)", () => {
    it('gets a token for that service only, refreshes it there, and iss names that issuer', async () => {
      const metadata = (await (
        await fetch(`${t.issuer}/.well-known/oauth-protected-resource/echo-stateless/mcp`)
      ).json()) as {
        authorization_servers: string[];
      };
      const issuer = metadata.authorization_servers[0] as string;
      expect(issuer).toBe(`${t.issuer}/as/echo-stateless`);
      const as = (await (
        await fetch(`${t.issuer}/.well-known/oauth-authorization-server/as/echo-stateless`)
      ).json()) as { issuer: string; token_endpoint: string };
      expect(as.issuer).toBe(issuer);

      const client = await register('none');
      const { code, verifier } = await authorize(client.client_id, undefined, 'frank', 'mcp', issuer);
      const form = {
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code,
        redirect_uri: PRESENTED,
        code_verifier: verifier,
      };
      const issued = await token(form, undefined, as.token_endpoint);
      expect(issued.status).toBe(200);
      const tokens = (await issued.json()) as { access_token: string; refresh_token: string };
      expect((await verify(tokens.access_token, 'echo-stateless')).status).toBe(200);
      expect((await verify(tokens.access_token, 'echo-stateful')).status).toBe(401);

      const refreshed = await token(
        { grant_type: 'refresh_token', client_id: client.client_id, refresh_token: tokens.refresh_token },
        undefined,
        as.token_endpoint,
      );
      expect(refreshed.status).toBe(200);
      // Another service's authorization server does not accept this grant (RFC 8707 §2.2).
      const elsewhere = await token(
        {
          grant_type: 'refresh_token',
          client_id: client.client_id,
          refresh_token: ((await refreshed.json()) as { refresh_token: string }).refresh_token,
        },
        undefined,
        `${t.issuer}/as/echo-stateful/token`,
      );
      expect([elsewhere.status, ((await elsewhere.json()) as { error: string }).error]).toEqual([
        400,
        'invalid_target',
      ]);
    });

    it("refuses a bad request and another service's resource before the person acted as a page (no redirect to a client this browser never approved, docs/security.md S34), and has no unknown servers", async () => {
      const client = await register('none');
      const browser = new Browser();
      const issuer = `${t.issuer}/as/echo-stateless`;
      const base = { client_id: client.client_id, redirect_uri: PRESENTED, response_type: 'code', state: 's2' };
      const noPkce = await browser.get(authorizeUrl(issuer, base));
      expect([noPkce.status, noPkce.location]).toEqual([400, undefined]);
      const { challenge } = pkce();
      const other = await browser.get(
        authorizeUrl(issuer, {
          ...base,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: `${t.issuer}/echo-stateful/mcp`,
        }),
      );
      expect([other.status, other.location]).toEqual([400, undefined]);
      expect((await browser.get(authorizeUrl(`${t.issuer}/as/nope`, base))).status).toBe(404);
    });
  });
});
