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
import { FakeGithub, type FakeGithubUser } from './support/fake-github';

const REDIRECT = 'http://127.0.0.1:33418/callback';

const octocat: FakeGithubUser = {
  id: 583231,
  login: 'octocat',
  name: 'The Octocat',
  emails: [
    { email: 'unverified@example.com', primary: true, verified: false },
    { email: 'octo@example.com', primary: true, verified: true },
    { email: 'other@example.com', primary: false, verified: true },
  ],
  orgs: ['Acme', 'github'],
  teams: [{ org: 'Acme', slug: 'ops' }],
};
const mallory: FakeGithubUser = {
  id: 666,
  login: 'mallory',
  emails: [],
  orgs: ['evil-corp'],
  teams: [{ org: 'Acme', slug: 'interns' }],
};

/** GitHub (Enterprise layout) login end to end against a GitHub-compatible server started here. */
describe('GitHub login', () => {
  let github: FakeGithub;

  beforeAll(async () => {
    github = await new FakeGithub('Iv1.test-client', 'test-secret').start();
  });
  afterAll(() => github.stop());

  async function setup(name: string, env: Record<string, string>): Promise<{ t: AuthUnderTest; clientId: string }> {
    const t = await startAuth(name, {
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      GITHUB_BASE_URL: github.url,
      GITHUB_API_URL: `${github.url}/api/v3`,
      ...env,
    });
    return { t, clientId: await registerClient(t.issuer, { redirect_uris: [REDIRECT], client_name: 'GitHub e2e' }) };
  }

  /** authorize → GitHub → our /callback; returns the answer of /callback. */
  async function viaGithub(
    t: AuthUnderTest,
    clientId: string,
    user: FakeGithubUser | undefined,
    browser = new Browser(),
  ): Promise<Hop> {
    github.nextUser = user;
    github.deny = !user;
    const start = await browser.get(
      authorizeUrl(t.issuer, {
        client_id: clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        state: 'gh-state',
        resource: `${t.issuer}/memory/mcp`,
      }),
    );
    expect(start.status).toBe(302);
    expect(start.location?.startsWith(`${github.url}/login/oauth/authorize?`)).toBe(true);
    const upstream = await browser.get(start.location as string);
    expect(upstream.status).toBe(302);
    expect(upstream.location?.startsWith(`${t.issuer}/callback?`)).toBe(true);
    return browser.get(upstream.location as string);
  }

  describe('with a user allow-list', () => {
    let t: AuthUnderTest;
    let clientId: string;
    beforeAll(
      async () => ({ t, clientId } = await setup('github', { ALLOWED_GITHUB_USERS: ' octocat:583231 , 9919' })),
    );
    afterAll(() => t.stop());

    it('signs an allowed user in through GitHub, asks consent and issues a code for their GitHub identity', async () => {
      const browser = new Browser();
      const callback = await viaGithub(t, clientId, octocat, browser);
      const asked = github.authorizeRequests.at(-1) as URLSearchParams;
      expect(asked.get('redirect_uri')).toBe(`${t.issuer}/callback`);
      expect(asked.get('scope')).toBe('read:user user:email');
      expect(asked.get('state')?.length).toBeGreaterThanOrEqual(43);
      // PKCE towards GitHub (RFC 7636; docs/security.md S39); the fake checks the verifier at the exchange.
      expect(asked.get('code_challenge_method')).toBe('S256');
      expect(asked.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(callback.status).toBe(302);
      const page = await browser.get(callback.location as string);
      expect(page.text).toContain('octocat');
      const answer = await browser.post(`${t.issuer}/consent`, {
        request: formValue(page.text, 'request'),
        csrf: formValue(page.text, 'csrf'),
        decision: 'allow',
      });
      const params = query(answer.location);
      expect(params).toMatchObject({ state: 'gh-state', iss: t.issuer });
      const record = JSON.parse(
        (await t.redis.get(`${t.prefix}code:${sha256hex(params['code'] as string)}`)) as string,
      );
      expect(record.user).toEqual({
        sub: 'github:583231',
        provider: 'github',
        login: 'octocat',
        name: 'The Octocat',
        email: 'octo@example.com',
      });
    });

    it('sends a user outside ALLOWED_GITHUB_USERS back to the client with access_denied', async () => {
      const callback = await viaGithub(t, clientId, mallory);
      expect(callback.status).toBe(302);
      expect(query(callback.location)).toMatchObject({ error: 'access_denied', state: 'gh-state', iss: t.issuer });
      expect(callback.location?.startsWith(`${REDIRECT}?`)).toBe(true);
    });

    // docs/security.md S35: the allow-list follows the numeric id, so a login recycled after a rename is no key.
    it('follows a renamed user and refuses whoever registered their old login', async () => {
      // Same id: admitted (the consent given above is remembered for this subject, so a code comes back).
      const renamed = { ...octocat, login: 'octocat-renamed' };
      expect(query((await viaGithub(t, clientId, renamed)).location)['code']).toBeDefined();
      const squatter = { ...mallory, login: 'octocat' };
      expect(query((await viaGithub(t, clientId, squatter)).location)).toMatchObject({ error: 'access_denied' });
    });

    it("sends GitHub's own denial back to the client, not to a dead end (RFC 6749 §4.1.2.1)", async () => {
      const callback = await viaGithub(t, clientId, undefined);
      expect(callback.status).toBe(302);
      expect(query(callback.location)).toMatchObject({ error: 'access_denied', state: 'gh-state', iss: t.issuer });
    });

    it('reports a failed code exchange to the client as server_error', async () => {
      const browser = new Browser();
      const start = await browser.get(
        authorizeUrl(t.issuer, {
          client_id: clientId,
          redirect_uri: REDIRECT,
          response_type: 'code',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          state: 'x',
          resource: `${t.issuer}/memory/mcp`,
        }),
      );
      const state = new URL(start.location as string).searchParams.get('state') as string;
      const callback = await browser.get(`${t.issuer}/callback?code=forged&state=${state}`);
      expect(query(callback.location)).toMatchObject({ error: 'server_error', state: 'x', iss: t.issuer });
    });

    it('refuses a callback whose state came from another browser', async () => {
      github.nextUser = octocat;
      github.deny = false;
      const start = await new Browser().get(
        authorizeUrl(t.issuer, {
          client_id: clientId,
          redirect_uri: REDIRECT,
          response_type: 'code',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          resource: `${t.issuer}/memory/mcp`,
        }),
      );
      const upstream = await new Browser().get(start.location as string);
      const callback = await new Browser().get(upstream.location as string);
      expect(callback.status).toBe(400);
      expect(callback.location).toBeUndefined();
    });
  });

  describe('with an organisation rule', () => {
    let t: AuthUnderTest;
    let clientId: string;
    beforeAll(
      async () =>
        ({ t, clientId } = await setup('github-org', { ALLOWED_GITHUB_USERS: '*', ALLOWED_GITHUB_ORGS: 'acme' })),
    );
    afterAll(() => t.stop());

    it('asks GitHub for read:org and lets a member in', async () => {
      const callback = await viaGithub(t, clientId, octocat);
      expect(github.authorizeRequests.at(-1)?.get('scope')).toBe('read:user user:email read:org');
      expect(callback.location).toContain('/consent?request=');
    });

    it('sends a non-member back with access_denied', async () => {
      const callback = await viaGithub(t, clientId, mallory);
      expect(query(callback.location)).toMatchObject({ error: 'access_denied', iss: t.issuer });
    });
  });

  describe('with a team rule', () => {
    let t: AuthUnderTest;
    let clientId: string;
    beforeAll(
      async () =>
        ({ t, clientId } = await setup('github-team', { ALLOWED_GITHUB_USERS: '*', ALLOWED_GITHUB_TEAMS: 'acme/ops' })),
    );
    afterAll(() => t.stop());

    it('lets a team member in and sends others back with access_denied', async () => {
      expect((await viaGithub(t, clientId, octocat)).location).toContain('/consent?request=');
      expect(query((await viaGithub(t, clientId, mallory)).location)).toMatchObject({ error: 'access_denied' });
    });
  });

  describe('with an empty ALLOWED_GITHUB_USERS (docs/security.md S11)', () => {
    let t: AuthUnderTest;
    let clientId: string;
    beforeAll(async () => ({ t, clientId } = await setup('github-empty', { ALLOWED_GITHUB_USERS: '' })));
    afterAll(() => t.stop());

    it('lets nobody in and says so at start', async () => {
      expect(query((await viaGithub(t, clientId, octocat)).location)).toMatchObject({
        error: 'access_denied',
        iss: t.issuer,
      });
      expect(t.auth.output()).toContain('ALLOWED_GITHUB_USERS is empty');
    });
  });
});
