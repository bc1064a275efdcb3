import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@gateway/testing';
import type { Browser, Page } from 'playwright-core';
import { type AuthUnderTest, authorizeUrl, pkce, registerClient, sha256hex, startAuth } from './support/authorize-flow';
import { launchChromium, RedirectCatcher } from './support/chromium';

/** Login through a real OpenID Connect provider (oidc-provider) via discovery and openid-client. */
describe('OIDC login', () => {
  let idp: ChildProcess;
  let idpUrl: string;
  let t: AuthUnderTest;
  let chromium: Browser;
  let client: RedirectCatcher;
  let clientId: string;

  beforeAll(async () => {
    const [idpPort, authPort] = [await freePort(), await freePort()];
    idpUrl = `http://127.0.0.1:${idpPort}`;
    idp = spawn(
      process.execPath,
      [
        join(__dirname, 'support/oidc-provider-server.mjs'),
        String(idpPort),
        'gateway',
        'gateway-secret',
        `http://127.0.0.1:${authPort}/callback`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('oidc-provider ready')) resolve();
      };
      idp.stdout?.on('data', onData);
      idp.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      idp.on('exit', (code) => reject(new Error(`oidc-provider exited with ${code}:\n${output}`)));
    });
    [t, chromium, client] = await Promise.all([
      startAuth('oidc', {
        PORT: String(authPort),
        OIDC_ISSUER: idpUrl,
        OIDC_CLIENT_ID: 'gateway',
        OIDC_CLIENT_SECRET: 'gateway-secret',
        ALLOWED_EMAIL_DOMAINS: 'corp.example',
        MCP_MEMORY_ALLOWED_USERS: 'alice@corp.example',
      }),
      launchChromium(),
      new RedirectCatcher().start(),
    ]);
    clientId = await registerClient(t.issuer, { redirect_uris: [client.url], client_name: 'OIDC e2e client' });
  });
  afterAll(async () => {
    await chromium?.close();
    await client?.stop();
    await t?.stop();
    idp?.kill('SIGTERM');
  });

  /** authorize → the IdP's login form; returns the page there. */
  async function toIdp(state: string): Promise<Page> {
    const page = await (await chromium.newContext()).newPage();
    await page.goto(
      authorizeUrl(t.issuer, {
        client_id: clientId,
        redirect_uri: client.url,
        response_type: 'code',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        state,
        resource: `${t.issuer}/memory/mcp`,
      }),
    );
    expect(page.url().startsWith(`${idpUrl}/interaction/`)).toBe(true);
    return page;
  }

  /** Signs in at the IdP (login, then its own consent). */
  async function signInAtIdp(page: Page, login: string): Promise<void> {
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any');
    await page.click('button[type="submit"]');
    await page.waitForSelector('input[name="login"]', { state: 'detached' });
    // the IdP's own consent page (Continue), then back to the gateway
    if (page.url().startsWith(`${idpUrl}/interaction/`)) await page.click('button[type="submit"]');
  }

  it('signs an allowed user in and issues a code for the OIDC identity after consent', async () => {
    const page = await toIdp('oidc-ok');
    await signInAtIdp(page, 'alice');
    await page.waitForURL(/\/consent\?/);
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(client.url)),
      page.click('button[name="decision"][value="allow"]'),
    ]);
    const back = new URL(page.url());
    expect(back.searchParams.get('state')).toBe('oidc-ok');
    expect(back.searchParams.get('iss')).toBe(t.issuer);
    const record = JSON.parse(
      (await t.redis.get(`${t.prefix}code:${sha256hex(back.searchParams.get('code') as string)}`)) as string,
    );
    expect(record.user).toEqual({
      sub: 'oidc:alice',
      provider: 'oidc',
      login: 'alice',
      name: 'Alice Corp',
      email: 'alice@corp.example',
    });
    await page.context().close();
  });

  it('sends a user outside ALLOWED_EMAIL_DOMAINS back with access_denied', async () => {
    const page = await toIdp('oidc-outsider');
    await signInAtIdp(page, 'bob');
    await page.waitForURL((url) => url.href.startsWith(client.url));
    const back = new URL(page.url());
    expect(Object.fromEntries(back.searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'oidc-outsider',
      iss: t.issuer,
    });
    await page.context().close();
  });

  // docs/security.md S35: preferred_username is self-chosen; only sub or a verified email may match.
  it('does not match a service allow-list by a username the user chose', async () => {
    const page = await toIdp('oidc-username');
    await signInAtIdp(page, 'mallory');
    await page.waitForURL((url) => url.href.startsWith(client.url));
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'oidc-username',
    });
    await page.context().close();
  });

  it('does not trust an unverified email', async () => {
    const page = await toIdp('oidc-unverified');
    await signInAtIdp(page, 'eve');
    await page.waitForURL((url) => url.href.startsWith(client.url));
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    await page.context().close();
  });

  it("sends the IdP's own cancellation back to the client with access_denied", async () => {
    const page = await toIdp('oidc-cancel');
    await page.click('text=[ Cancel ]');
    await page.waitForURL((url) => url.href.startsWith(client.url));
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'oidc-cancel',
      iss: t.issuer,
    });
    await page.context().close();
  });
});
