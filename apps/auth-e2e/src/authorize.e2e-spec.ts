import { runUntilExit } from '@gateway/testing';
import {
  type AuthUnderTest,
  authorizeUrl,
  Browser,
  formValue,
  type Hop,
  pkce,
  query,
  registerClient,
  sha256hex,
  startAuth,
} from './support/authorize-flow';

/** GET /authorize, the dev login and consent, over HTTP against the built app and Redis. */
describe('authorization endpoint with the dev login', () => {
  let t: AuthUnderTest;
  let clientId: string;
  let memory: string;
  let echo: string;
  const REDIRECT = 'http://127.0.0.1/callback';
  const PRESENTED = 'http://127.0.0.1:45123/callback';
  const WEB_REDIRECT = 'https://app.example.com/cb?tenant=7';

  const request = (overrides: Record<string, string | undefined> = {}, challenge = pkce().challenge): string =>
    authorizeUrl(t.issuer, {
      client_id: clientId,
      redirect_uri: PRESENTED,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-123',
      resource: memory,
      scope: 'mcp',
      ...overrides,
    });

  /** authorize → dev login page → POST username; returns the answer to the login form. */
  async function signIn(browser: Browser, url: string, username: string): Promise<Hop> {
    const start = await browser.get(url);
    expect(start.status).toBe(302);
    const login = await browser.get(start.location as string);
    expect(login.status).toBe(200);
    return browser.post(`${t.issuer}/login/dev`, { state: formValue(login.text, 'state'), username });
  }

  /** Sign in, expect the consent page, answer it. */
  async function consent(browser: Browser, url: string, username: string, decision: 'allow' | 'deny'): Promise<Hop> {
    const afterLogin = await signIn(browser, url, username);
    expect(afterLogin.status).toBe(303);
    const page = await browser.get(afterLogin.location as string);
    expect(page.status).toBe(200);
    return browser.post(`${t.issuer}/consent`, {
      request: formValue(page.text, 'request'),
      csrf: formValue(page.text, 'csrf'),
      decision,
    });
  }

  beforeAll(async () => {
    t = await startAuth('authorize', { MCP_FILESYSTEM_ALLOWED_USERS: 'dev:alice' });
    memory = `${t.issuer}/memory/mcp`;
    echo = `${t.issuer}/echo-stateless/mcp`;
    clientId = await registerClient(t.issuer, {
      redirect_uris: [REDIRECT, WEB_REDIRECT],
      client_name: '<img src=x onerror=alert(1)>',
      client_uri: 'https://app.example.com',
    });
  });
  afterAll(() => t.stop());

  describe('client_id and redirect_uri errors are pages, never redirects (RFC 6749 §4.1.2.1)', () => {
    it('shows an unknown client_id escaped, not reflected as markup (docs/security.md S13)', async () => {
      const res = await new Browser().get(request({ client_id: '<script>alert(1)</script>' }));
      expect(res.status).toBe(400);
      expect(res.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).not.toContain('<script>alert(1)</script>');
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    });

    it.each([
      ['a prefix extension', 'https://app.example.com/cb?tenant=7&x=1'],
      ['a look-alike host', 'http://127.0.0.1.evil.com/callback'],
      ['another path', 'http://127.0.0.1:45123/callback/../evil'],
      ['upper-case scheme trick', 'HTTP://evil.com/callback'],
      ['javascript:', 'javascript:alert(1)'],
      ['a different https host', 'https://app.example.com.evil.com/cb?tenant=7'],
    ])('refuses %s of a registered redirect URI (docs/security.md S14)', async (_name, presented) => {
      const res = await new Browser().get(request({ redirect_uri: presented }));
      expect(res.status).toBe(400);
      expect(res.location).toBeUndefined();
      expect(res.text).toContain('not registered');
    });

    it('matches a loopback redirect URI on any port (RFC 8252 §7.3)', async () => {
      const res = await new Browser().get(request({ redirect_uri: 'http://127.0.0.1:61000/callback' }));
      expect(res.status).toBe(302);
      expect(res.location).toMatch(/\/login\/dev\?state=/);
    });
  });

  describe('errors before the person acted: a page unless this browser approved the client (RFC 9700 §4.11.2)', () => {
    /** A browser in which the person already approved the client at PRESENTED and WEB_REDIRECT. */
    let approved: Browser;

    beforeAll(async () => {
      approved = new Browser();
      // Two people, because consent is remembered per person and client (the second would not see the page).
      for (const [redirect_uri, user] of [
        [PRESENTED, 'olga'],
        [WEB_REDIRECT, 'otto'],
      ] as const) {
        const answer = await consent(approved, request({ redirect_uri }), user, 'allow');
        expect(query(answer.location)['code']).toBeDefined();
      }
    });

    /** Shown as a page to a browser that never approved the client; redirected with error, state, iss otherwise. */
    const expectRedirectError = async (url: string, error: string): Promise<Record<string, string>> => {
      const page = await new Browser().get(url);
      expect(page.status).toBe(400);
      expect(page.location).toBeUndefined();
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain(error);
      const res = await approved.get(url);
      expect(res.status).toBe(302);
      const params = query(res.location);
      expect(res.location?.startsWith('http://127.0.0.1:45123/callback?')).toBe(true);
      expect(params).toMatchObject({ error, state: 'st-123', iss: t.issuer });
      return params;
    };

    it('does not bounce a stranger to a freshly registered redirect URI (open redirector, docs/security.md S34)', async () => {
      const phish = 'https://phish.example/landing';
      const attacker = await registerClient(t.issuer, { redirect_uris: [phish] });
      // (Unknown scopes are no error: they are dropped, RFC 6749 §3.3.)
      for (const overrides of [
        { response_type: 'bad' },
        { code_challenge: undefined },
        { code_challenge_method: 'plain' },
      ]) {
        const res = await approved.get(request({ client_id: attacker, redirect_uri: phish, ...overrides }));
        expect(res.status).toBe(400);
        expect(res.location).toBeUndefined();
      }
    });

    it('requires PKCE (OAuth 2.1 §4.1.1)', async () => {
      await expectRedirectError(
        request({ code_challenge: undefined, code_challenge_method: undefined }),
        'invalid_request',
      );
      await expectRedirectError(request({ code_challenge_method: undefined }), 'invalid_request');
    });

    it('refuses the plain PKCE method', async () => {
      const params = await expectRedirectError(request({ code_challenge_method: 'plain' }), 'invalid_request');
      expect(params['error_description']).toContain('S256');
    });

    it('accepts only response_type=code', async () => {
      await expectRedirectError(request({ response_type: 'token' }), 'unsupported_response_type');
    });

    it('refuses a resource that is not an enabled MCP service (RFC 8707 invalid_target)', async () => {
      await expectRedirectError(request({ resource: 'https://evil.example.com/mcp' }), 'invalid_target');
      await expectRedirectError(request({ resource: `${t.issuer}/memory` }), 'invalid_target');
    });

    it('refuses a request without resource while several services are enabled', async () => {
      const params = await expectRedirectError(request({ resource: undefined }), 'invalid_target');
      expect(params['error_description']).toContain(memory);
    });

    it('accepts a resource with a trailing slash or an upper-case host', async () => {
      for (const resource of [`${memory}/`, memory.replace('http://127.0.0.1', 'HTTP://127.0.0.1')]) {
        expect((await new Browser().get(request({ resource }))).status).toBe(302);
        expect((await new Browser().get(request({ resource }))).location).toContain('/login/dev');
      }
    });

    it('drops unknown scopes instead of refusing them (RFC 6749 §3.3)', async () => {
      const res = await new Browser().get(request({ scope: 'mcp admin openid' }));
      expect([res.status, res.location]).toEqual([302, expect.stringContaining('/login/dev')]);
      await expectRedirectError(request({ scope: 'mcp "admin' }), 'invalid_scope');
    });

    it("keeps the redirect URI's own query and encodes state", async () => {
      const res = await approved.get(
        request({ redirect_uri: WEB_REDIRECT, state: 'a b&c=d', code_challenge_method: 'plain' }),
      );
      const url = new URL(res.location as string);
      expect(url.origin + url.pathname).toBe('https://app.example.com/cb');
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        tenant: '7',
        error: 'invalid_request',
        state: 'a b&c=d',
        iss: t.issuer,
      });
    });
  });

  describe('dev login and consent', () => {
    it('issues a single-use code bound to client, redirect URI, PKCE, resource, scope and user after consent', async () => {
      const browser = new Browser();
      const { challenge, verifier } = pkce();
      const afterLogin = await signIn(browser, request({}, challenge), 'carol');
      expect(afterLogin.status).toBe(303);
      const page = await browser.get(afterLogin.location as string);
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(page.headers['x-frame-options']).toBe('DENY');
      // the client's name is shown escaped; the redirect host, loopback warning, scope and service are named
      expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(page.text).not.toContain('<img src=x');
      expect(page.text).toContain('127.0.0.1:45123');
      expect(page.text).toContain('program on this computer');
      expect(page.text).toContain('https://app.example.com');
      expect(page.text).toContain('memory');
      expect(page.text).toContain('(mcp)');
      expect(page.text).toMatch(/<button[^>]*name="decision" value="allow"/);
      expect(page.text).toMatch(/<button[^>]*name="decision" value="deny"/);

      const answer = await browser.post(`${t.issuer}/consent`, {
        request: formValue(page.text, 'request'),
        csrf: formValue(page.text, 'csrf'),
        decision: 'allow',
      });
      expect(answer.status).toBe(303);
      const params = query(answer.location);
      expect(answer.location?.startsWith(`${PRESENTED}?`)).toBe(true);
      expect(params).toMatchObject({ state: 'st-123', iss: t.issuer });
      const key = `${t.prefix}code:${sha256hex(params['code'] as string)}`;
      const ttl = await t.redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
      expect(JSON.parse((await t.redis.get(key)) as string)).toMatchObject({
        clientId,
        redirectUri: PRESENTED,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        resource: memory,
        scope: 'mcp',
        user: { sub: 'dev:carol', provider: 'dev', login: 'carol' },
      });

      // the token side redeems it once (RFC 6749 §4.1.3 + RFC 7636): the two halves agree on the record
      const redeem = (): Promise<Response> =>
        fetch(`${t.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: params['code'] as string,
            client_id: clientId,
            redirect_uri: PRESENTED,
            code_verifier: verifier,
            resource: memory,
          }),
        });
      const token = await redeem();
      expect(token.status).toBe(200);
      expect(await token.json()).toMatchObject({
        token_type: expect.stringMatching(/^bearer$/i),
        access_token: expect.any(String),
      });
      expect((await redeem()).status).toBe(400);

      // the same consent form cannot be answered twice
      const again = await browser.post(`${t.issuer}/consent`, {
        request: formValue(page.text, 'request'),
        csrf: formValue(page.text, 'csrf'),
        decision: 'allow',
      });
      expect(again.status).toBe(400);
      expect(again.location).toBeUndefined();
    });

    it('denial ends at the client with access_denied, state and iss', async () => {
      const answer = await consent(new Browser(), request(), 'dave', 'deny');
      expect(answer.status).toBe(303);
      expect(query(answer.location)).toEqual({
        error: 'access_denied',
        error_description: expect.any(String),
        state: 'st-123',
        iss: t.issuer,
      });
    });

    it('remembers consent per user, client, scope set and service; asks again when they grow', async () => {
      const browser = new Browser();
      expect(
        query((await consent(browser, request({ resource: echo }), 'erin', 'allow')).location)['code'],
      ).toBeDefined();
      const returning = await signIn(browser, request({ resource: echo }), 'erin');
      expect(returning.status).toBe(303);
      expect(query(returning.location)['code']).toBeDefined();
      // a wider scope set, another service, another user, or prompt=consent: asked again
      for (const [overrides, user] of [
        [{ resource: echo, scope: 'mcp offline_access' }, 'erin'],
        [{ resource: memory }, 'erin'],
        [{ resource: echo }, 'frank'],
        [{ resource: echo, prompt: 'consent' }, 'erin'],
      ] as const) {
        const hop = await signIn(browser, request(overrides), user);
        expect(hop.location).toContain('/consent?request=');
      }
    });

    it('refuses a consent post without the CSRF token or from another browser', async () => {
      const browser = new Browser();
      const afterLogin = await signIn(browser, request(), 'gina');
      const page = await browser.get(afterLogin.location as string);
      const id = formValue(page.text, 'request');
      const forged = await browser.post(`${t.issuer}/consent`, { request: id, csrf: 'guessed', decision: 'allow' });
      expect(forged.status).toBe(403);
      expect(forged.location).toBeUndefined();
      const elsewhere = await new Browser().post(`${t.issuer}/consent`, {
        request: id,
        csrf: formValue(page.text, 'csrf'),
        decision: 'allow',
      });
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.location).toBeUndefined();
      expect((await new Browser().get(afterLogin.location as string)).status).toBe(400);
    });

    it('binds the login state to the browser and uses it once', async () => {
      const browser = new Browser();
      const start = await browser.get(request());
      const state = new URL(start.location as string).searchParams.get('state') as string;
      const stranger = await new Browser().post(`${t.issuer}/login/dev`, { state, username: 'mallory' });
      expect(stranger.status).toBe(400);
      expect(stranger.location).toBeUndefined();
      expect((await browser.post(`${t.issuer}/login/dev`, { state, username: 'hank' })).status).toBe(303);
      const replay = await browser.post(`${t.issuer}/login/dev`, { state, username: 'hank' });
      expect(replay.status).toBe(400);
      expect(replay.text).toContain('expired or was already used');
    });

    it('sends a user outside a service allow-list back to the client with access_denied (docs/security.md S12)', async () => {
      const hop = await signIn(new Browser(), request({ resource: `${t.issuer}/filesystem/mcp` }), 'mallory');
      expect(hop.status).toBe(303);
      expect(query(hop.location)).toMatchObject({ error: 'access_denied', state: 'st-123', iss: t.issuer });
      const allowed = await signIn(new Browser(), request({ resource: `${t.issuer}/filesystem/mcp` }), 'Alice');
      expect(allowed.location).toContain('/consent?request=');
    });

    it('escapes what the login form echoes', async () => {
      const browser = new Browser();
      const hop = await signIn(browser, request(), '"><script>x</script>');
      expect(hop.status).toBe(400);
      expect(hop.text).not.toContain('<script>x');
    });

    it('answers an unknown upstream callback with a page, not a JSON dead end (docs/security.md S12)', async () => {
      const res = await new Browser().get(`${t.issuer}/callback?error=access_denied&state=<b>nope</b>`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('Go back to the application');
      expect(res.text).not.toContain('<b>nope</b>');
    });
  });

  describe('configuration', () => {
    it('binds a request without resource to the only enabled service', async () => {
      const only = await startAuth('authorize-single', {
        MCP_ECHO_STATEFUL_ENABLED: 'false',
        MCP_FETCHS_ENABLED: 'false',
        MCP_EVERYTHING_ENABLED: 'false',
        MCP_MEMORY_ENABLED: 'false',
        MCP_FILESYSTEM_ENABLED: 'false',
        MCP_SEQUENTIAL_THINKING_ENABLED: 'false',
        MCP_TIME_ENABLED: 'false',
      });
      try {
        const id = await registerClient(only.issuer, { redirect_uris: [REDIRECT] });
        const browser = new Browser();
        const start = await browser.get(
          authorizeUrl(only.issuer, {
            client_id: id,
            redirect_uri: REDIRECT,
            response_type: 'code',
            code_challenge: pkce().challenge,
            code_challenge_method: 'S256',
          }),
        );
        expect(start.status).toBe(302);
        const login = await browser.get(start.location as string);
        const hop = await browser.post(`${only.issuer}/login/dev`, {
          state: formValue(login.text, 'state'),
          username: 'ivy',
        });
        const page = await browser.get(hop.location as string);
        expect(page.text).toContain(`${only.issuer}/echo-stateless/mcp`);
      } finally {
        await only.stop();
      }
    });

    it('refuses to start the dev login with NODE_ENV=production', async () => {
      const result = await runUntilExit('auth', {
        NODE_ENV: 'production',
        REDIS_URL: process.env['REDIS_URL'] ?? '',
        PORT: '0',
      });
      expect(result.code).toBe(1);
      expect(result.output).toContain(
        'LOGIN_PROVIDER=dev: the dev login (no password) refuses to run with NODE_ENV=production',
      );
    });

    // docs/security.md S35: logins and usernames can be chosen or recycled; the old form is refused, with the new one.
    it('refuses to start with an allow-list that names people by login', async () => {
      const result = await runUntilExit('auth', {
        REDIS_URL: process.env['REDIS_URL'] ?? '',
        PORT: '0',
        ALLOWED_GITHUB_USERS: 'octocat',
        MCP_MEMORY_ALLOWED_USERS: 'alice',
      });
      expect(result.code).toBe(1);
      expect(result.output).toContain('ALLOWED_GITHUB_USERS: "octocat" is a GitHub login');
      expect(result.output).toContain('MCP_MEMORY_ALLOWED_USERS: "alice" is not a stable identifier');
      expect(result.output).toContain('github:<numeric id>');
    });

    // docs/security.md S37: the access log shows /authorize and /login URLs, but never a state or a code.
    it('keeps state and codes out of its log, also in the Location of redirects', () => {
      const output = t.auth.output();
      expect(output).toMatch(/\/authorize\?[^"\s]*state=%5Bredacted%5D/);
      expect(output).not.toContain('st-123');
      expect(output).not.toMatch(/[?&]code=(?!%5Bredacted%5D)/);
    });

    it('warns about the dev login at start', () => {
      expect(t.auth.output()).toMatch(/DEV LOGIN/);
    });
  });
});
