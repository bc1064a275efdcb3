import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { freePort, type ServiceProcess, startService, WORKSPACE_ROOT } from '@gateway/testing';
import { Redis } from 'ioredis';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  ECHO,
  logged,
  PUBLIC_URL,
  postForm,
  redeem,
  refresh,
  STATEFUL,
  TokenFixtures,
  type TestClient,
  verify,
} from './support/token-fixtures';

const REDIS_URL = process.env['REDIS_URL'] ?? '';

const ECHO_PRM = `${PUBLIC_URL}/.well-known/oauth-protected-resource/echo-stateless/mcp`;

describe('/verify, /revoke, /introspect, /jwks', () => {
  const prefix = `e2e-verify-${randomBytes(4).toString('hex')}:`;
  // A short ring reload interval, so that a staged key activates within seconds (default activation: two intervals).
  const env = { REDIS_URL, STORAGE_PREFIX: prefix, PUBLIC_URL, ALLOWED_DEV_USERS: '*', KEY_RING_RELOAD_INTERVAL: '2' };
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

  async function tokensFor(
    client: TestClient,
    options: Parameters<TokenFixtures['code']>[1] = {},
  ): Promise<{ access: string; refresh: string }> {
    const result = await redeem(auth.url, client, await fixtures.code(client, options));
    expect(result.status).toBe(200);
    return { access: result.body['access_token'] as string, refresh: result.body['refresh_token'] as string };
  }

  describe('/verify (ForwardAuth)', () => {
    it('answers a valid token with 200 and the identity headers', async () => {
      const client = await fixtures.client('none');
      const { access } = await tokensFor(client);
      const response = await verify(auth.url, access);
      expect(response.status).toBe(200);
      expect(Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('x-')))).toEqual({
        'x-user-id': 'dev:alice',
        'x-user-name': 'alice',
        'x-user-email': 'alice@example.com',
        'x-client-id': client.clientId,
        'x-scope': 'mcp offline_access',
        // What the policy lets alice be granted for this service (docs/authorization.md).
        'x-scope-grantable': 'mcp echo-stateless:diagnostics',
      });
      // Cached or not (the second answer comes from memory, before Fastify), the answer is the same.
      const again = await verify(auth.url, access);
      expect(again.status).toBe(200);
      const comparable = (answer: Response): [string, string][] =>
        [...answer.headers].filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name));
      expect(comparable(again)).toEqual(comparable(response));
    });

    it('decides MCP 2026-07-28 calls from Mcp-Method/Mcp-Name: a missing scope gets the step-up challenge', async () => {
      const client = await fixtures.client('none');
      const { access } = await tokensFor(client); // scope "mcp offline_access": no echo-stateless:diagnostics
      const call = (name: string) => ({ 'mcp-method': 'tools/call', 'mcp-name': name });
      expect((await verify(auth.url, access, undefined, call('echo'))).status).toBe(200);
      // Twice: the second answer would come from memory (the fast path) if it were allowed.
      for (let attempt = 0; attempt < 2; attempt++) {
        const refused = await verify(auth.url, access, undefined, call('bearerDecode'));
        expect(refused.status).toBe(403);
        // MCP 2025-11-25 authorization "Scope Challenge Handling": every scope needed, offline_access left out.
        expect(refused.headers.get('www-authenticate')).toBe(
          'Bearer error="insufficient_scope", error_description="this request needs the scope echo-stateless:diagnostics", ' +
            `scope="mcp echo-stateless:diagnostics", resource_metadata="${ECHO_PRM}"`,
        );
      }
    });

    it('challenges a request without a token with the resource metadata URL and no error (RFC 6750 §3.1, RFC 9728 §5.1)', async () => {
      const response = await verify(auth.url, undefined);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer scope="mcp echo-stateless:diagnostics", resource_metadata="${ECHO_PRM}"`,
      );
      expect(await logged(auth, '"audit":"verify.refused"')).toBe(true);
    });

    it('answers a bad or tampered token with error="invalid_token"', async () => {
      const { access } = await tokensFor(await fixtures.client('none'));
      const [header, payload, signature] = access.split('.') as [string, string, string];
      const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(access), sub: 'dev:mallory' })).toString(
        'base64url',
      );
      for (const token of [
        'not-a-jwt',
        `${header}.${forgedPayload}.${signature}`,
        `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      ]) {
        const response = await verify(auth.url, token);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(
          new RegExp(`^Bearer error="invalid_token", .*resource_metadata="${ECHO_PRM}"$`),
        );
      }
      const basic = await fetch(`${auth.url}/verify`, {
        headers: {
          authorization: 'Basic Zm9vOmJhcg==',
          'x-forwarded-host': 'localhost:8080',
          'x-forwarded-uri': '/echo-stateless/mcp',
        },
      });
      expect(basic.status).toBe(401);
    });

    it('refuses a token minted for another service with 401 (RFC 8707 §2, docs/security.md S6)', async () => {
      const { access } = await tokensFor(await fixtures.client('none'), { resource: ECHO });
      const response = await verify(auth.url, access, `${PUBLIC_URL}/fetchs/mcp`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain(
        `resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/fetchs/mcp"`,
      );
    });

    it('answers 403 insufficient_scope when the token lacks the mcp scope', async () => {
      const { access } = await tokensFor(await fixtures.client('none'), { scope: 'offline_access' });
      const response = await verify(auth.url, access);
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope", .*scope="mcp"/);
    });

    it("answers 403 when the service's allow-list does not admit the user", async () => {
      const { access } = await tokensFor(await fixtures.client('none'), { resource: STATEFUL });
      // A replica whose catalog now restricts echo-stateful to bob: the policy is checked on every /verify.
      const strict = await startService('auth', { env: { ...env, MCP_ECHO_STATEFUL_ALLOWED_USERS: 'dev:bob' } });
      try {
        const response = await verify(strict.url, access, STATEFUL);
        expect(response.status).toBe(403);
        expect(((await response.json()) as { error: string }).error).toBe('access_denied');
        expect(await logged(strict, 'not on the allow-list of echo-stateful')).toBe(true);
        expect((await verify(auth.url, access, STATEFUL)).status).toBe(200);
      } finally {
        await strict.stop();
      }
    });

    it('answers 404 for an address that is no enabled MCP service', async () => {
      const response = await verify(auth.url, 'x', 'http://localhost:8080/nope/mcp');
      expect(response.status).toBe(404);
    });

    it('finds the service by host in subdomain mode', async () => {
      const sub = `e2e-sub-${randomBytes(4).toString('hex')}:`;
      const subFixtures = new TokenFixtures(REDIS_URL, sub);
      const service = await startService('auth', {
        env: { ...env, STORAGE_PREFIX: sub, ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.test' },
      });
      try {
        const client = await subFixtures.client('none');
        const result = await redeem(
          service.url,
          client,
          await subFixtures.code(client, { resource: 'https://echo-stateless.example.test/mcp' }),
        );
        const token = result.body['access_token'] as string;
        expect(decodeJwt(token)).toMatchObject({
          iss: 'https://auth.example.test',
          aud: 'https://echo-stateless.example.test/mcp',
        });
        expect((await verify(service.url, token, 'https://echo-stateless.example.test/mcp')).status).toBe(200);
        const elsewhere = await verify(service.url, token, 'https://fetchs.example.test/mcp');
        expect(elsewhere.status).toBe(401);
        expect(elsewhere.headers.get('www-authenticate')).toContain(
          'resource_metadata="https://fetchs.example.test/.well-known/oauth-protected-resource/mcp"',
        );
      } finally {
        await service.stop();
        subFixtures.close();
      }
    });

    it('sees a revocation made on another replica promptly (pub/sub to every replica)', async () => {
      const client = await fixtures.client('client_secret_post');
      const { access } = await tokensFor(client);
      const replica = await startService('auth', { env });
      try {
        expect((await verify(replica.url, access)).status).toBe(200); // now in the replica's cache
        expect((await postForm(auth.url, '/revoke', client, { token: access })).status).toBe(200);
        // Issue 21: refused by the other replica within 100 ms (ten polls 10 ms apart; pub/sub takes ≈ 1 ms here).
        expect(await refusedWithin(10, () => verify(replica.url, access))).toBe(true);
      } finally {
        await replica.stop();
      }
    });

    it("still refuses a token revoked while the replicas' subscriptions are cut (CLIENT KILL), and after", async () => {
      const client = await fixtures.client('client_secret_post');
      const { access } = await tokensFor(client);
      const replica = await startService('auth', { env });
      const admin = new Redis(REDIS_URL);
      try {
        expect((await verify(replica.url, access)).status).toBe(200);
        // The revocation feeds of this suite's replicas (connection name = prefix + "revocation-feed").
        const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
        const feeds = list
          .split('\n')
          .filter((line) => line.includes(` name=${prefix}revocation-feed `))
          .map((line) => /\bid=(\d+)/.exec(line)?.[1] ?? '');
        expect(feeds.length).toBe(2);
        for (const id of feeds) expect(await admin.client('KILL', 'ID', id)).toBe(1);
        expect((await postForm(auth.url, '/revoke', client, { token: access })).status).toBe(200);
        // Refused while the feed is down (a GET per request) and once it has resynced (memory), never let through.
        expect(await refusedWithin(20, () => verify(replica.url, access))).toBe(true);
        expect(await logged(replica, 'revocation feed down')).toBe(true);
        for (let i = 0; i < 20; i++) {
          expect((await verify(replica.url, access)).status).toBe(401);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      } finally {
        admin.disconnect();
        await replica.stop();
      }
    });
  });

  describe('/revoke (RFC 7009)', () => {
    it("refuses to revoke another client's token (RFC 7009 §2.1)", async () => {
      const owner = await fixtures.client('none');
      const other = await fixtures.client('client_secret_basic');
      const { access, refresh: refreshToken } = await tokensFor(owner);
      for (const token of [access, refreshToken]) {
        const result = await postForm(auth.url, '/revoke', other, { token });
        expect([result.status, result.body['error']]).toEqual([400, 'unauthorized_client']);
      }
      expect((await verify(auth.url, access)).status).toBe(200);
      expect((await refresh(auth.url, owner, refreshToken)).status).toBe(200);
    });

    it('revokes an own access token', async () => {
      const client = await fixtures.client('none');
      const { access, refresh: refreshToken } = await tokensFor(client);
      const result = await postForm(auth.url, '/revoke', client, { token: access, token_type_hint: 'access_token' });
      expect(result.status).toBe(200);
      expect(result.headers.get('cache-control')).toBe('no-store');
      expect((await verify(auth.url, access)).status).toBe(401);
      expect((await refresh(auth.url, client, refreshToken)).status).toBe(200);
      expect(await logged(auth, '"audit":"token.revoked"')).toBe(true);
    });

    it('revokes the whole grant when a refresh token is revoked', async () => {
      const client = await fixtures.client('none');
      const { access, refresh: refreshToken } = await tokensFor(client);
      expect((await postForm(auth.url, '/revoke', client, { token: refreshToken })).status).toBe(200);
      expect((await verify(auth.url, access)).status).toBe(401);
      expect((await refresh(auth.url, client, refreshToken)).status).toBe(400);
    });

    it('answers 200 for unknown tokens and 401 without client authentication', async () => {
      const client = await fixtures.client('none');
      expect((await postForm(auth.url, '/revoke', client, { token: 'no-such-token' })).status).toBe(200);
      const anonymous = await postForm(auth.url, '/revoke', undefined, { token: 'no-such-token' });
      expect([anonymous.status, anonymous.body['error']]).toEqual([401, 'invalid_client']);
      const confidential = await fixtures.client('client_secret_post');
      const withoutSecret = await postForm(
        auth.url,
        '/revoke',
        { clientId: confidential.clientId, method: 'none' },
        { token: 'x' },
      );
      expect(withoutSecret.status).toBe(401);
    });
  });

  describe('/introspect (RFC 7662)', () => {
    it('describes own active tokens', async () => {
      const client = await fixtures.client('client_secret_post');
      const { access, refresh: refreshToken } = await tokensFor(client);
      const result = await postForm(auth.url, '/introspect', client, { token: access });
      expect(result.status).toBe(200);
      expect(result.headers.get('cache-control')).toBe('no-store');
      expect(result.body).toEqual({
        active: true,
        token_type: 'Bearer',
        scope: 'mcp offline_access',
        client_id: client.clientId,
        username: 'alice',
        sub: 'dev:alice',
        aud: ECHO,
        iss: PUBLIC_URL,
        exp: expect.any(Number),
        iat: expect.any(Number),
        jti: expect.any(String),
      });
      const forRefresh = await postForm(auth.url, '/introspect', client, { token: refreshToken });
      expect(forRefresh.body).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        client_id: client.clientId,
        sub: 'dev:alice',
      });
    });

    it("answers {active:false} for another client's, revoked and unknown tokens (RFC 7662 §2.2)", async () => {
      const owner = await fixtures.client('none');
      const other = await fixtures.client('none');
      const { access } = await tokensFor(owner);
      expect((await postForm(auth.url, '/introspect', other, { token: access })).body).toEqual({ active: false });
      expect((await postForm(auth.url, '/introspect', owner, { token: 'unknown' })).body).toEqual({ active: false });
      await postForm(auth.url, '/revoke', owner, { token: access });
      expect((await postForm(auth.url, '/introspect', owner, { token: access })).body).toEqual({ active: false });
      const anonymous = await postForm(auth.url, '/introspect', undefined, { token: access });
      expect(anonymous.status).toBe(401);
    });
  });

  describe('signing keys', () => {
    it('publishes the signing key in /jwks; a staged rotation never makes a replica refuse a valid token', async () => {
      const { access } = await tokensFor(await fixtures.client('none'));
      const oldKid = decodeProtectedHeader(access).kid;
      const jwks = (await (await fetch(`${auth.url}/jwks`)).json()) as {
        keys: { kid: string; kty: string; alg: string; use: string; d?: string }[];
      };
      expect(jwks.keys).toEqual([expect.objectContaining({ kid: oldKid, kty: 'RSA', alg: 'RS256', use: 'sig' })]);
      expect(jwks.keys[0]).not.toHaveProperty('d');

      const rotation = await runRotateKeys({ REDIS_URL, STORAGE_PREFIX: prefix, KEY_RING_RELOAD_INTERVAL: '2' });
      expect(rotation.code).toBe(0);
      const { added, signsFrom } = JSON.parse(rotation.output) as { added: string; signsFrom: string };
      expect(Date.parse(signsFrom)).toBeGreaterThan(Date.now());
      const replica = await startService('auth', { env });
      try {
        const replicas = [auth, replica];
        const client = await fixtures.client('none');
        /** A fresh token from each replica, each verified on every replica: all must pass, whatever key signed. */
        const crossVerify = async (): Promise<string[]> => {
          const kids: string[] = [];
          for (const signer of replicas) {
            const token = (await redeem(signer.url, client, await fixtures.code(client))).body[
              'access_token'
            ] as string;
            kids.push(decodeProtectedHeader(token).kid ?? '');
            for (const verifier of replicas) expect((await verify(verifier.url, token)).status).toBe(200);
          }
          return kids;
        };
        // Right after the rotation, on the replica that read the ring at start and on the one that has not re-read it.
        await crossVerify();
        // The new key is published everywhere (the running replica re-reads the ring every 2 s) before it signs.
        await waitFor(async () => (await publishedKids(auth.url)).includes(added));
        expect(await publishedKids(replica.url)).toEqual([added, oldKid]);
        // Once active, both replicas sign with it; tokens of the old key stay valid everywhere.
        await waitFor(async () => (await crossVerify()).every((kid) => kid === added));
        for (const verifier of replicas) expect((await verify(verifier.url, access)).status).toBe(200);
      } finally {
        await replica.stop();
      }
    });

    it('signs ES256 when JWT_ALGORITHM=ES256', async () => {
      const es = `e2e-es-${randomBytes(4).toString('hex')}:`;
      const esFixtures = new TokenFixtures(REDIS_URL, es);
      const service = await startService('auth', { env: { ...env, STORAGE_PREFIX: es, JWT_ALGORITHM: 'ES256' } });
      try {
        const client = await esFixtures.client('none');
        const result = await redeem(service.url, client, await esFixtures.code(client));
        const token = result.body['access_token'] as string;
        expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
        expect((await verify(service.url, token)).status).toBe(200);
      } finally {
        await service.stop();
        esFixtures.close();
      }
    });

    it('uses a configured JWT_PRIVATE_KEY (base64 PEM) and enforces exp, iss and the signature', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      const configured = `e2e-pem-${randomBytes(4).toString('hex')}:`;
      const pemFixtures = new TokenFixtures(REDIS_URL, configured);
      const service = await startService('auth', {
        env: { ...env, STORAGE_PREFIX: configured, JWT_PRIVATE_KEY: Buffer.from(pem).toString('base64') },
      });
      try {
        const client = await pemFixtures.client('none');
        const result = await redeem(service.url, client, await pemFixtures.code(client));
        const token = result.body['access_token'] as string;
        expect((await verify(service.url, token)).status).toBe(200);
        // Re-signing the same claims with the configured key: only the changed claim decides.
        const claims = decodeJwt(token);
        const header = decodeProtectedHeader(token) as { alg: string; kid: string; typ: string };
        const sign = (changes: Record<string, unknown>): Promise<string> =>
          new SignJWT({ ...claims, ...changes }).setProtectedHeader(header).sign(privateKey);
        const now = Math.floor(Date.now() / 1000);
        expect((await verify(service.url, await sign({ jti: `${claims.jti as string}` }))).status).toBe(200);
        expect((await verify(service.url, await sign({ iat: now - 7200, exp: now - 3600 }))).status).toBe(401);
        expect((await verify(service.url, await sign({ iss: 'https://evil.example' }))).status).toBe(401);
        const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        expect(
          (await verify(service.url, await new SignJWT(claims).setProtectedHeader(header).sign(other))).status,
        ).toBe(401);
        const unsigned = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${token.split('.')[1]}.`;
        expect((await verify(service.url, unsigned)).status).toBe(401);
      } finally {
        await service.stop();
        pemFixtures.close();
      }
    });
  });

  it('starts without storage, fails closed with 503 while storage is unreachable and recovers by itself', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const own = `e2e-outage-${randomBytes(4).toString('hex')}:`;
    // Redis is not there yet: auth starts (not ready) and loads its signing keys once storage answers.
    const service = await startService('auth', {
      env: { ...env, REDIS_URL: url, STORAGE_PREFIX: own },
      readyPath: '/healthz',
    });
    expect((await fetch(`${service.url}/readyz`)).status).toBe(503);
    let redis = startRedis(port);
    expect(
      await poll(
        async () => (await fetch(`${service.url}/readyz`)).status,
        (status) => status === 200,
        15_000,
      ),
    ).toBe(200);
    const ownFixtures = new TokenFixtures(url, own);
    try {
      const client = await ownFixtures.client('none');
      const result = await redeem(service.url, client, await ownFixtures.code(client));
      const token = result.body['access_token'] as string;
      expect((await verify(service.url, token)).status).toBe(200);

      await stopRedis(redis);
      // Refused once the replica has noticed that its revocation feed is down (it reads storage then, which fails).
      const down = await poll(
        () => verify(service.url, token),
        (response) => response.status === 503,
        5_000,
      );
      expect(down.status).toBe(503);
      expect(((await down.json()) as { error: string }).error).toBe('temporarily_unavailable');
      expect(await logged(service, 'storage unavailable during /verify')).toBe(true);

      // The other endpoints that need storage answer the same way (RFC 6749 §5.2 temporarily_unavailable,
      // RFC 9110 §15.6.4 503 + Retry-After), through the one OAuth error serializer: never a 500.
      const answers = {
        token: await redeem(service.url, client, { code: 'any', verifier: 'a'.repeat(43) }),
        revoke: await postForm(service.url, '/revoke', client, { token: token }),
        introspect: await postForm(service.url, '/introspect', client, { token: token }),
        register: await fetch(`${service.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:5173/cb'], token_endpoint_auth_method: 'none' }),
        }).then(async (response) => ({
          status: response.status,
          headers: response.headers,
          body: (await response.json()) as Record<string, unknown>,
        })),
      };
      for (const [endpoint, answer] of Object.entries(answers)) {
        expect({ endpoint, status: answer.status, error: answer.body['error'] }).toEqual({
          endpoint,
          status: 503,
          error: 'temporarily_unavailable',
        });
        expect(answer.headers.get('retry-after')).toBe('1');
        expect(answer.headers.get('cache-control')).toBe('no-store');
      }
      // A deliberate 503 is not an "unexpected error" in the log.
      expect(service.output()).not.toContain('unexpected error');

      // Redis is back (empty): the revocation check answers again and the cached verified token passes.
      redis = startRedis(port);
      const recovered = await poll(
        async () => (await verify(service.url, token)).status,
        (status) => status !== 503,
        15_000,
      );
      expect(recovered).toBe(200);
      // /token works again too (the ioredis client reconnected by itself).
      const client2 = await ownFixtures.client('none');
      const second = await redeem(service.url, client2, await ownFixtures.code(client2));
      expect(second.status).toBe(200);
    } finally {
      await service.stop();
      ownFixtures.close();
      await stopRedis(redis);
    }
  });
});

/**
 * Whether `request` answers 401 within `attempts` tries 10 ms apart (a bounded poll: revocation reaches other
 * replicas through Redis pub/sub, not inside the revoking request).
 */
async function refusedWithin(attempts: number, request: () => Promise<Response>): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    const status = (await request()).status;
    if (status === 401) return true;
    expect(status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

async function publishedKids(url: string): Promise<string[]> {
  return ((await (await fetch(`${url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
}

/** Polls `condition` until it holds (bounded: the suite's timeout ends a wait that never succeeds). */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 200));
}

function runRotateKeys(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${WORKSPACE_ROOT}/dist/apps/auth/src/rotate-keys.js`], {
      cwd: WORKSPACE_ROOT,
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
