import type { Browser } from 'playwright-core';
import { type AuthUnderTest, authorizeUrl, pkce, registerClient, startAuth } from './support/authorize-flow';
import { launchChromium, RedirectCatcher } from './support/chromium';

/** What the test reads of an `<input>` in the page (the DOM types are not in this project's lib). */
interface FormField {
  checkValidity(): boolean;
  validity: { patternMismatch: boolean };
}

/** The whole authorization in a real headless Chromium: register → authorize → dev login → consent → back. */
describe('authorization in a browser (dev login)', () => {
  let t: AuthUnderTest;
  let chromium: Browser;
  let client: RedirectCatcher;
  let clientId: string;

  beforeAll(async () => {
    [t, chromium, client] = await Promise.all([startAuth('browser'), launchChromium(), new RedirectCatcher().start()]);
    clientId = await registerClient(t.issuer, {
      redirect_uris: [client.url],
      client_name: 'Browser e2e client',
      client_uri: 'https://client.example',
    });
  });
  afterAll(async () => {
    await chromium?.close();
    await client?.stop();
    await t?.stop();
  });

  async function walk(username: string, decision: 'allow' | 'deny'): Promise<URL> {
    const context = await chromium.newContext();
    try {
      const page = await context.newPage();
      const login = await page.goto(
        authorizeUrl(t.issuer, {
          client_id: clientId,
          redirect_uri: client.url,
          response_type: 'code',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          state: `browser-${decision}`,
          resource: `${t.issuer}/echo-stateless/mcp`,
          scope: 'mcp offline_access',
        }),
      );
      expect(login?.status()).toBe(200);
      expect(login?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await page.fill('input[name="username"]', username);
      await Promise.all([page.waitForURL(/\/consent\?/), page.click('form button[type="submit"]')]);
      await expect(page.locator('h1').innerText()).resolves.toContain('Browser e2e client');
      const text = await page.locator('main').innerText();
      expect(text).toContain('echo-stateless');
      expect(text).toContain('https://client.example');
      expect(text).toContain(new URL(client.url).host);
      expect(text).toContain('offline_access');
      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(client.url)),
        page.click(`button[name="decision"][value="${decision}"]`),
      ]);
      await expect(page.locator('#done').innerText()).resolves.toBe('back at the client');
      return new URL(page.url());
    } finally {
      await context.close();
    }
  }

  it('allow: comes back to the client with code, state and iss', async () => {
    const back = await walk('alice', 'allow');
    expect(back.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(back.searchParams.get('state')).toBe('browser-allow');
    expect(back.searchParams.get('iss')).toBe(t.issuer);
  });

  it('deny: comes back to the client with access_denied, state and iss', async () => {
    const back = await walk('bob', 'deny');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
    expect(back.searchParams.get('state')).toBe('browser-deny');
    expect(back.searchParams.get('iss')).toBe(t.issuer);
  });

  it('the pages render without any CSP violation (inline style allowed by hash only)', async () => {
    const context = await chromium.newContext();
    try {
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page.goto(authorizeUrl(t.issuer, { client_id: 'nope' }));
      await page.goto(
        authorizeUrl(t.issuer, {
          client_id: clientId,
          redirect_uri: client.url,
          response_type: 'code',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          resource: `${t.issuer}/memory/mcp`,
        }),
      );
      expect(await page.locator('input[name="username"]').count()).toBe(1);
      // the stylesheet applied: the page is not unstyled
      expect(await page.evaluate('getComputedStyle(document.querySelector("main")).maxWidth')).toBe('512px');
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  // Browsers compile `pattern` with the `v` flag (HTML spec), where an unescaped `-` in a class is a syntax
  // error and the whole pattern is ignored with a console warning.
  it('the sign-in form validates the username pattern (valid under the v flag)', async () => {
    const context = await chromium.newContext();
    try {
      const page = await context.newPage();
      const warnings: string[] = [];
      page.on('console', (message) => {
        if (/pattern/i.test(message.text())) warnings.push(message.text());
      });
      await page.goto(
        authorizeUrl(t.issuer, {
          client_id: clientId,
          redirect_uri: client.url,
          response_type: 'code',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          resource: `${t.issuer}/memory/mcp`,
        }),
      );
      const input = page.locator('input[name="username"]');
      const validity = async (value: string) => {
        await input.fill(value);
        return input.evaluate((element) => ({
          valid: (element as unknown as FormField).checkValidity(),
          patternMismatch: (element as unknown as FormField).validity.patternMismatch,
        }));
      };
      await expect(validity('alice.o-brien_2@example')).resolves.toEqual({ valid: true, patternMismatch: false });
      await expect(validity('not allowed!')).resolves.toEqual({ valid: false, patternMismatch: true });
      // The browser refuses to submit: still on the sign-in page.
      await page.click('form button[type="submit"]');
      expect(page.url()).toContain('/login/dev');
      expect(warnings).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
