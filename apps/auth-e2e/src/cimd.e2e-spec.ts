import {
  type AuthUnderTest,
  authorizeUrl,
  Browser,
  formValue,
  type Hop,
  pkce,
  query,
  startAuth,
} from './support/authorize-flow';
import { DocumentServer } from '@gateway/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { postForm } from './support/token-fixtures';

/**
 * Client ID Metadata Documents over real HTTPS on loopback: auth fetches the document a URL client_id names
 * (draft-ietf-oauth-client-id-metadata-document), through its guarded fetcher, with a test-only CA.
 */
describe('Client ID Metadata Documents', () => {
  let t: AuthUnderTest;
  let docs: DocumentServer;
  let clientId: string;
  let echo: string;
  const REDIRECT = 'http://127.0.0.1/cb';
  const PRESENTED = 'http://127.0.0.1:47123/cb';

  const request = (overrides: Record<string, string> = {}, challenge = pkce().challenge): string =>
    authorizeUrl(t.issuer, {
      client_id: clientId,
      redirect_uri: PRESENTED,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
      resource: echo,
      ...overrides,
    });

  /** authorize → dev login → consent page. */
  async function toConsent(browser: Browser, url: string): Promise<Hop> {
    const start = await browser.get(url);
    expect(start.status).toBe(302);
    const login = await browser.get(start.location as string);
    const afterLogin = await browser.post(`${t.issuer}/login/dev`, {
      state: formValue(login.text, 'state'),
      username: 'alice',
    });
    expect(afterLogin.status).toBe(303);
    return browser.get(afterLogin.location as string);
  }

  beforeAll(async () => {
    docs = await DocumentServer.start();
    clientId = docs.url('/oauth/client.json');
    docs.routes.set('/oauth/client.json', {
      body: {
        client_id: clientId,
        client_name: 'Doc Client',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
      },
      headers: { 'cache-control': 'max-age=600' },
    });
    t = await startAuth('cimd', {
      CLIENT_FETCH_ALLOW_HOSTS: 'localhost',
      CLIENT_FETCH_CA_FILE: docs.caFile,
    });
    echo = `${t.issuer}/echo-stateless/mcp`;
  });
  afterAll(async () => {
    if (process.env['CIMD_DEBUG']) console.log(t.auth.output());
    await t.stop();
    await docs.stop();
  });

  it('signs in a URL client_id, shows its name and host on consent, and redeems the code without a secret', async () => {
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const page = await toConsent(browser, request({}, challenge));
    expect(page.status).toBe(200);
    expect(page.text).toContain('Doc Client');
    expect(page.text).toContain(new URL(clientId).host);
    const decided = await browser.post(`${t.issuer}/consent`, {
      request: formValue(page.text, 'request'),
      csrf: formValue(page.text, 'csrf'),
      decision: 'allow',
    });
    expect(decided.status).toBe(303);
    const params = query(decided.location);
    expect(decided.location?.startsWith(`${PRESENTED}?`)).toBe(true);
    const token = await postForm(t.issuer, '/token', undefined, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: params['code'] ?? '',
      redirect_uri: PRESENTED,
      code_verifier: verifier,
    });
    expect([token.status, token.body['token_type']]).toEqual([200, 'Bearer']);
    // Cached by its Cache-Control: one fetch served /authorize, /consent and /token.
    expect(docs.requests.filter((path) => path === '/oauth/client.json')).toHaveLength(1);
  });

  it('refuses a redirect URI the document does not list (a page, no redirect)', async () => {
    const res = await new Browser().get(request({ redirect_uri: 'http://127.0.0.2:47123/cb' }));
    expect([res.status, res.location]).toEqual([400, undefined]);
    expect(res.text).toContain('not registered');
  });

  it('an unreachable document: a 503 page at /authorize, 503 temporarily_unavailable + Retry-After at /token', async () => {
    const missing = docs.url('/oauth/missing.json');
    const res = await new Browser().get(request({ client_id: missing }));
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain(new URL(missing).host);
    const token = await postForm(t.issuer, '/token', undefined, {
      grant_type: 'authorization_code',
      client_id: missing,
      code: 'x',
      redirect_uri: PRESENTED,
      code_verifier: 'y'.repeat(43),
    });
    expect([token.status, token.body['error']]).toEqual([503, 'temporarily_unavailable']);
    expect(Number(token.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(token.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a document whose client_id is not its URL', async () => {
    const liar = docs.url('/oauth/liar.json');
    docs.routes.set('/oauth/liar.json', {
      body: { client_id: clientId, client_name: 'Liar', redirect_uris: [REDIRECT] },
    });
    const res = await new Browser().get(request({ client_id: liar }));
    expect(res.status).toBe(503);
    expect(res.text).not.toContain('Liar');
  });

  it('never connects to a non-public address that is not allowed (the guard refuses before connecting)', async () => {
    const byAddress = docs.url('/oauth/client.json').replace('localhost', '127.0.0.1');
    const before = docs.requests.length;
    const res = await new Browser().get(request({ client_id: byAddress }));
    expect(res.status).toBe(503);
    expect(docs.requests.length).toBe(before);
  });

  describe('a ChatGPT-like client: CIMD + private_key_jwt with its JWK Set served locally (RFC 7523 §2.2)', () => {
    const REDIRECT_WEB = 'https://chatgpt.example/connector/oauth/abc';
    const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    let chat: string;
    let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

    const sign = (claims: { aud?: string; jti?: string } = {}): Promise<string> =>
      new SignJWT({ jti: claims.jti ?? `jti-${Math.random()}` })
        .setProtectedHeader({ alg: 'RS256', kid: 'chat-1' })
        .setIssuer(chat)
        .setSubject(chat)
        .setAudience(claims.aud ?? `${t.issuer}/token`)
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(privateKey);

    beforeAll(async () => {
      const pair = await generateKeyPair('RS256');
      privateKey = pair.privateKey;
      chat = docs.url('/oauth/chat/client.json');
      docs.routes.set('/oauth/jwks.json', {
        body: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'chat-1', alg: 'RS256', use: 'sig' }] },
      });
      docs.routes.set('/oauth/chat/client.json', {
        body: {
          client_id: chat,
          client_name: 'Chat Connector',
          redirect_uris: [REDIRECT_WEB],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: docs.url('/oauth/jwks.json'),
        },
      });
    });

    it('redeems a code with a signed assertion, refuses its replay and a wrong aud, and revokes with one', async () => {
      const browser = new Browser();
      const { verifier, challenge } = pkce();
      const page = await toConsent(
        browser,
        request({ client_id: chat, redirect_uri: REDIRECT_WEB, scope: 'mcp offline_access' }, challenge),
      );
      expect(page.text).toContain('Chat Connector');
      const decided = await browser.post(`${t.issuer}/consent`, {
        request: formValue(page.text, 'request'),
        csrf: formValue(page.text, 'csrf'),
        decision: 'allow',
      });
      const code = query(decided.location)['code'] ?? '';
      const jwt = await sign();
      const form = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_WEB,
        code_verifier: verifier,
        client_assertion_type: ASSERTION_TYPE,
      };
      const token = await postForm(t.issuer, '/token', undefined, { ...form, client_assertion: jwt });
      expect([token.status, token.body['token_type']]).toEqual([200, 'Bearer']);
      const refreshToken = token.body['refresh_token'] as string;

      const replay = await postForm(t.issuer, '/token', undefined, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: jwt,
      });
      expect([replay.status, replay.body['error']]).toEqual([401, 'invalid_client']);

      const wrongAud = await postForm(t.issuer, '/token', undefined, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await sign({ aud: 'https://elsewhere.example/token' }),
      });
      expect([wrongAud.status, wrongAud.body['error']]).toEqual([401, 'invalid_client']);

      const refreshed = await postForm(t.issuer, '/token', undefined, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await sign(),
      });
      expect(refreshed.status).toBe(200);

      const revoked = await postForm(t.issuer, '/revoke', undefined, {
        token: refreshed.body['refresh_token'] as string,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await sign({ aud: `${t.issuer}/revoke` }),
      });
      expect(revoked.status).toBe(200);
      const afterRevoke = await postForm(t.issuer, '/token', undefined, {
        grant_type: 'refresh_token',
        refresh_token: refreshed.body['refresh_token'] as string,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await sign(),
      });
      expect([afterRevoke.status, afterRevoke.body['error']]).toEqual([400, 'invalid_grant']);
    });

    it('refuses this client without an assertion (no fallback to a public client)', async () => {
      const bare = await postForm(t.issuer, '/token', undefined, {
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: chat,
      });
      expect([bare.status, bare.body['error']]).toEqual([401, 'invalid_client']);
    });
  });
});
