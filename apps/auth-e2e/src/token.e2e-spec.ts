import { randomBytes } from 'node:crypto';
import { type ServiceProcess, startService } from '@gateway/testing';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import {
  alice,
  ECHO,
  logged,
  PUBLIC_URL,
  postForm,
  redeem,
  refresh,
  STATEFUL,
  TokenFixtures,
  verify,
} from './support/token-fixtures';

const REDIS_URL = process.env['REDIS_URL'] ?? '';

describe('POST /token', () => {
  const prefix = `e2e-token-${randomBytes(4).toString('hex')}:`;
  const env = { REDIS_URL, STORAGE_PREFIX: prefix, PUBLIC_URL, REFRESH_GRACE_SECONDS: '2', ALLOWED_DEV_USERS: '*' };
  let auth: ServiceProcess;
  let fixtures: TokenFixtures;

  beforeAll(async () => {
    fixtures = new TokenFixtures(REDIS_URL, prefix);
    auth = await startService('auth', { env });
  });
  afterAll(async () => {
    await auth?.stop();
    fixtures?.close();
  });

  describe('authorization_code', () => {
    it('issues an RFC 9068 access token for the resource and a refresh token, not cacheable', async () => {
      const client = await fixtures.client('none');
      const result = await redeem(auth.url, client, await fixtures.code(client));
      expect(result.status).toBe(200);
      expect(result.headers.get('cache-control')).toBe('no-store');
      expect(result.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: expect.any(String),
        scope: 'mcp offline_access',
      });
      const token = result.body['access_token'] as string;
      const header = decodeProtectedHeader(token);
      expect(header).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'at+jwt' });
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${auth.url}/jwks`)), {
        issuer: PUBLIC_URL,
        audience: ECHO,
        typ: 'at+jwt',
      });
      expect(payload).toEqual({
        iss: PUBLIC_URL,
        sub: alice.sub,
        aud: ECHO,
        client_id: client.clientId,
        scope: 'mcp offline_access',
        login: 'alice',
        name: 'Alice A.',
        email: 'alice@example.com',
        iat: expect.any(Number),
        exp: (payload.iat ?? 0) + 3600,
        jti: expect.any(String),
      });
      expect(await logged(auth, '"audit":"token.issued"')).toBe(true);
    });

    it('authenticates confidential clients by their registered method (client_secret_post, client_secret_basic)', async () => {
      for (const method of ['client_secret_post', 'client_secret_basic'] as const) {
        const client = await fixtures.client(method);
        const result = await redeem(auth.url, client, await fixtures.code(client));
        expect({ method, status: result.status }).toEqual({ method, status: 200 });
      }
    });

    it('refuses a confidential client that leaves out its secret (docs/security.md S1)', async () => {
      const client = await fixtures.client('client_secret_post');
      const grant = await fixtures.code(client);
      const result = await redeem(auth.url, { clientId: client.clientId, method: 'none' }, grant);
      expect(result.status).toBe(401);
      expect(result.body['error']).toBe('invalid_client');
      // The code was not consumed by the failed authentication: the real client still redeems it.
      expect((await redeem(auth.url, client, grant)).status).toBe(200);
    });

    it('answers a wrong Basic secret with 401 invalid_client and a Basic challenge', async () => {
      const client = await fixtures.client('client_secret_basic');
      const result = await redeem(auth.url, { ...client, secret: 'wrong' }, await fixtures.code(client));
      expect(result.status).toBe(401);
      expect(result.body['error']).toBe('invalid_client');
      expect(result.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(result.headers.get('cache-control')).toBe('no-store');
    });

    it('accepts a secret sent the other way than registered (RFC 6749 §2.3.1); refuses unknown and expired clients', async () => {
      for (const [registered, used] of [
        ['client_secret_basic', 'client_secret_post'],
        ['client_secret_post', 'client_secret_basic'],
      ] as const) {
        const client = await fixtures.client(registered);
        const result = await redeem(auth.url, { ...client, method: used }, await fixtures.code(client));
        expect({ registered, status: result.status }).toEqual({ registered, status: 200 });
      }

      const unknown = await redeem(auth.url, { clientId: 'c-nobody', method: 'none' }, { code: 'x', verifier: 'y' });
      expect([unknown.status, unknown.body['error']]).toEqual([401, 'invalid_client']);

      const expired = await fixtures.client('none', { expiresAt: Math.floor(Date.now() / 1000) - 10 });
      const result = await redeem(auth.url, expired, await fixtures.code(expired));
      expect([result.status, result.body['error']]).toEqual([401, 'invalid_client']);
    });

    it('refuses a code issued to another client (RFC 6749 §4.1.3)', async () => {
      const victim = await fixtures.client('none');
      const attacker = await fixtures.client('none');
      const result = await redeem(auth.url, attacker, await fixtures.code(victim));
      expect([result.status, result.body['error']]).toEqual([400, 'invalid_grant']);
      expect(result.body['error_description']).toMatch(/another client/);
    });

    it('checks redirect_uri, the PKCE verifier and the resource', async () => {
      const client = await fixtures.client('none');
      const wrongRedirect = await redeem(auth.url, client, await fixtures.code(client), {
        redirect_uri: 'http://127.0.0.1:33418/other',
      });
      expect([wrongRedirect.status, wrongRedirect.body['error']]).toEqual([400, 'invalid_grant']);

      const grant = await fixtures.code(client);
      const wrongVerifier = await redeem(auth.url, client, {
        ...grant,
        verifier: randomBytes(40).toString('base64url'),
      });
      expect([wrongVerifier.status, wrongVerifier.body['error']]).toEqual([400, 'invalid_grant']);
      expect(wrongVerifier.body['error_description']).toMatch(/PKCE/);

      const noVerifier = await postForm(auth.url, '/token', client, {
        grant_type: 'authorization_code',
        code: (await fixtures.code(client)).code,
        redirect_uri: 'http://127.0.0.1:33418/callback',
      });
      expect([noVerifier.status, noVerifier.body['error']]).toEqual([400, 'invalid_request']);

      const otherResource = await redeem(auth.url, client, await fixtures.code(client), { resource: STATEFUL });
      expect([otherResource.status, otherResource.body['error']]).toEqual([400, 'invalid_target']);

      const sameResource = await redeem(auth.url, client, await fixtures.code(client), { resource: `${ECHO}/` });
      expect(sameResource.status).toBe(200);
    });

    it('refuses a code older than 10 minutes even if storage kept it (RFC 6749 §4.1.2)', async () => {
      const client = await fixtures.client('none');
      const yearOld = await fixtures.code(client, {
        issuedAt: Math.floor(Date.now() / 1000) - 365 * 24 * 3600,
        ttl: 0,
      });
      const result = await redeem(auth.url, client, yearOld);
      expect([result.status, result.body['error']]).toEqual([400, 'invalid_grant']);
      expect(result.body['error_description']).toMatch(/expired/);
    });

    it('redeems a code once; a second redemption revokes every token issued from it (RFC 6749 §4.1.2)', async () => {
      const client = await fixtures.client('none');
      const grant = await fixtures.code(client);
      const first = await redeem(auth.url, client, grant);
      expect(first.status).toBe(200);
      const accessToken = first.body['access_token'] as string;
      expect((await verify(auth.url, accessToken)).status).toBe(200);

      const second = await redeem(auth.url, client, grant);
      expect([second.status, second.body['error']]).toEqual([400, 'invalid_grant']);
      expect((await verify(auth.url, accessToken)).status).toBe(401);
      const refreshed = await refresh(auth.url, client, first.body['refresh_token'] as string);
      expect([refreshed.status, refreshed.body['error']]).toEqual([400, 'invalid_grant']);
    });

    it('lets exactly one of concurrent redemptions succeed, and revokes what it got', async () => {
      const client = await fixtures.client('none');
      const grant = await fixtures.code(client);
      const results = await Promise.all([
        redeem(auth.url, client, grant),
        redeem(auth.url, client, grant),
        redeem(auth.url, client, grant),
      ]);
      // Under any interleaving exactly one redemption issues tokens (the code is redeemed once, atomically),
      // the others are invalid_grant, and those replays revoke what the winner got (RFC 6749 §4.1.2).
      expect(results.map((result) => result.status).sort()).toEqual([200, 400, 400]);
      for (const result of results.filter((r) => r.status === 200)) {
        expect((await verify(auth.url, result.body['access_token'] as string)).status).toBe(401);
      }
    });

    it('issues no refresh token to a client registered without the refresh_token grant', async () => {
      const client = await fixtures.client('none', { grantTypes: ['authorization_code'] });
      const result = await redeem(auth.url, client, await fixtures.code(client));
      expect(result.status).toBe(200);
      expect(result.body).not.toHaveProperty('refresh_token');
    });
  });

  describe('refresh_token', () => {
    async function grantFor(
      client: Awaited<ReturnType<TokenFixtures['client']>>,
    ): Promise<{ access: string; refresh: string }> {
      const result = await redeem(auth.url, client, await fixtures.code(client));
      return { access: result.body['access_token'] as string, refresh: result.body['refresh_token'] as string };
    }

    it('rotates the refresh token on every use (RFC 9700 §4.14.2)', async () => {
      const client = await fixtures.client('client_secret_basic');
      const { refresh: first } = await grantFor(client);
      const next = await refresh(auth.url, client, first);
      expect(next.status).toBe(200);
      expect(next.headers.get('cache-control')).toBe('no-store');
      const second = next.body['refresh_token'] as string;
      expect(second).toEqual(expect.any(String));
      expect(second).not.toBe(first);
      expect((await verify(auth.url, next.body['access_token'] as string)).status).toBe(200);
      expect((await refresh(auth.url, client, second)).status).toBe(200);
      expect(await logged(auth, '"audit":"token.refreshed"')).toBe(true);
    });

    it('gives concurrent refreshes of one token the same successor (grace window)', async () => {
      const client = await fixtures.client('none');
      const { refresh: token } = await grantFor(client);
      const results = await Promise.all([
        refresh(auth.url, client, token),
        refresh(auth.url, client, token),
        refresh(auth.url, client, token),
      ]);
      expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
      expect(new Set(results.map((result) => result.body['refresh_token'])).size).toBe(1);
      expect((await refresh(auth.url, client, results[0]?.body['refresh_token'] as string)).status).toBe(200);
    });

    it('revokes the whole family when a rotated token comes back after the grace window', async () => {
      const client = await fixtures.client('none');
      const { access, refresh: first } = await grantFor(client);
      const next = await refresh(auth.url, client, first);
      expect(next.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 3_100)); // REFRESH_GRACE_SECONDS=2
      const replay = await refresh(auth.url, client, first);
      expect([replay.status, replay.body['error']]).toEqual([400, 'invalid_grant']);
      expect((await refresh(auth.url, client, next.body['refresh_token'] as string)).status).toBe(400);
      expect((await verify(auth.url, access)).status).toBe(401);
      expect((await verify(auth.url, next.body['access_token'] as string)).status).toBe(401);
    });

    it('binds the refresh token to its client (RFC 6749 §6)', async () => {
      const owner = await fixtures.client('none');
      const thief = await fixtures.client('none');
      const { refresh: token } = await grantFor(owner);
      const stolen = await refresh(auth.url, thief, token);
      expect([stolen.status, stolen.body['error']]).toEqual([400, 'invalid_grant']);
      expect((await refresh(auth.url, owner, token)).status).toBe(200);
    });

    it('lets scope shrink but never grow', async () => {
      const client = await fixtures.client('none');
      const result = await redeem(auth.url, client, await fixtures.code(client, { scope: 'mcp' }));
      const token = result.body['refresh_token'] as string;
      const wider = await refresh(auth.url, client, token, { scope: 'mcp offline_access' });
      expect([wider.status, wider.body['error']]).toEqual([400, 'invalid_scope']);
      const same = await refresh(auth.url, client, token, { scope: 'mcp' });
      expect([same.status, same.body['scope']]).toEqual([200, 'mcp']);

      const broad = await redeem(auth.url, client, await fixtures.code(client));
      const narrowed = await refresh(auth.url, client, broad.body['refresh_token'] as string, { scope: 'mcp' });
      expect([narrowed.status, narrowed.body['scope']]).toEqual([200, 'mcp']);
      // The refresh token keeps the granted scope (RFC 6749 §6): the next refresh may ask for all of it again.
      const again = await refresh(auth.url, client, narrowed.body['refresh_token'] as string);
      expect(again.body['scope']).toBe('mcp offline_access');
    });

    it('re-checks the access policy: a user removed from the allow-list cannot refresh', async () => {
      const client = await fixtures.client('none');
      const { refresh: token, access } = await grantFor(client);
      // A second replica on the same storage whose policy no longer admits alice.
      const strict = await startService('auth', { env: { ...env, ALLOWED_DEV_USERS: 'bob' } });
      try {
        expect((await verify(strict.url, access)).status).toBe(403);
        const refused = await refresh(strict.url, client, token);
        expect([refused.status, refused.body['error']]).toEqual([400, 'invalid_grant']);
      } finally {
        await strict.stop();
      }
      // The family was revoked, on every replica.
      expect((await refresh(auth.url, client, token)).status).toBe(400);
    });
  });

  it('answers other grants with unsupported_grant_type and malformed requests with 4xx', async () => {
    const client = await fixtures.client('client_secret_post');
    for (const grant of ['client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const result = await postForm(auth.url, '/token', client, { grant_type: grant });
      expect({ grant, status: result.status, error: result.body['error'] }).toEqual({
        grant,
        status: 400,
        error: 'unsupported_grant_type',
      });
    }
    const json = await fetch(`${auth.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"authorization_code"}',
    });
    expect(json.status).toBe(400);
    const repeated = await fetch(`${auth.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&client_id=${client.clientId}&client_id=other`,
    });
    expect([repeated.status, ((await repeated.json()) as { error: string }).error]).toEqual([400, 'invalid_request']);
  });
});
