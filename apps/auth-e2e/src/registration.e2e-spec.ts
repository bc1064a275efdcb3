import { type ServiceProcess, startService } from '@gateway/testing';
import { Redis } from 'ioredis';
import * as oauth from 'oauth4webapi';
import { http, type HttpResult, postJson } from './support/http';
import { REDIRECT_URI, redeem, refresh, TokenFixtures, verify } from './support/token-fixtures';

const PREFIX = `e2e-registration-${process.pid}:`;
const LIFETIME = 86_400;
const loopback = { redirect_uris: ['http://localhost:3000/callback'] };

type Info = Record<string, unknown> & {
  client_id: string;
  registration_access_token: string;
  registration_client_uri: string;
};

describe('dynamic client registration (RFC 7591) and management (RFC 7592)', () => {
  let auth: ServiceProcess;
  let redis: Redis;
  const register = (body: unknown, headers?: Record<string, string>): Promise<HttpResult> =>
    postJson(`${auth.url}/register`, body, headers);
  const manage = (
    info: Info,
    method: string,
    token = info.registration_access_token,
    body?: unknown,
  ): Promise<HttpResult> =>
    http(`${auth.url}/register/${info.client_id}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const registered = async (body: unknown = loopback): Promise<Info> => {
    const res = await register(body);
    expect(res.status).toBe(201);
    return res.json<Info>();
  };
  const expectOAuthError = (res: HttpResult, status: number, error: string): void => {
    expect({ status: res.status, error: res.json()['error'] }).toEqual({ status, error });
    expect(typeof res.json()['error_description']).toBe('string');
    expect(res.headers['cache-control']).toBe('no-store');
  };

  beforeAll(async () => {
    redis = new Redis(process.env['REDIS_URL'] ?? '');
    auth = await startService('auth', {
      env: {
        REDIS_URL: process.env['REDIS_URL'] ?? '',
        STORAGE_PREFIX: PREFIX,
        CLIENT_LIFETIME: String(LIFETIME),
        PUBLIC_URL: 'http://gateway.test:8080',
        REGISTRATION_RATE_LIMIT: '0',
      },
    });
  });
  afterAll(async () => {
    await auth.stop();
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  describe('POST /register', () => {
    it('answers 201 with everything registered, the credentials and no-store, accepted by oauth4webapi', async () => {
      const res = await register({
        ...loopback,
        client_name: 'Inspector',
        token_endpoint_auth_method: 'client_secret_post',
        software_id: 'inspector',
        contacts: ['ops@example.com'],
      });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const info = res.json<Info>();
      const now = Math.floor(Date.now() / 1000);
      expect(info).toEqual({
        client_id: expect.any(String),
        client_id_issued_at: expect.any(Number),
        client_secret: expect.any(String),
        client_secret_expires_at: (info['client_id_issued_at'] as number) + LIFETIME,
        registration_access_token: expect.any(String),
        registration_client_uri: `http://gateway.test:8080/register/${info.client_id}`,
        redirect_uris: ['http://localhost:3000/callback'],
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'mcp offline_access',
        client_name: 'Inspector',
        software_id: 'inspector',
        contacts: ['ops@example.com'],
      });
      expect(Math.abs((info['client_id_issued_at'] as number) - now)).toBeLessThan(60);
      const client = await oauth.processDynamicClientRegistrationResponse(res.toResponse());
      expect(client.client_id).toBe(info.client_id);
    });

    it('issues no client_secret to a public client', async () => {
      const info = await registered({ ...loopback, token_endpoint_auth_method: 'none' });
      expect(info['token_endpoint_auth_method']).toBe('none');
      expect(info).not.toHaveProperty('client_secret');
      expect(info).not.toHaveProperty('client_secret_expires_at');
    });

    it('returns grant_types, response_types and token_endpoint_auth_method', async () => {
      const info = await registered({
        ...loopback,
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      expect(info).toMatchObject({
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
    });

    it('validates grant_types, response_types and token_endpoint_auth_method', async () => {
      expectOAuthError(
        await register({ ...loopback, grant_types: ['client_credentials'] }),
        400,
        'invalid_client_metadata',
      );
      expectOAuthError(await register({ ...loopback, grant_types: ['refresh_token'] }), 400, 'invalid_client_metadata');
      expectOAuthError(await register({ ...loopback, response_types: ['token'] }), 400, 'invalid_client_metadata');
      expectOAuthError(
        await register({ ...loopback, token_endpoint_auth_method: 'private_key_jwt' }),
        400,
        'invalid_client_metadata',
      );
    });

    it('validates scope and returns the registered scope', async () => {
      expect((await registered({ ...loopback, scope: 'mcp' }))['scope']).toBe('mcp');
      expectOAuthError(await register({ ...loopback, scope: 'openid profile email' }), 400, 'invalid_client_metadata');
    });

    it('requires redirect_uris (invalid_client_metadata)', async () => {
      expectOAuthError(await register({ client_name: 'x' }), 400, 'invalid_client_metadata');
      expectOAuthError(await register({ redirect_uris: [] }), 400, 'invalid_client_metadata');
    });

    it.each([
      ['https', 'https://claude.ai/api/mcp/auth_callback'],
      ['localhost', 'http://localhost:6274/oauth/callback'],
      ['127.0.0.1 without a port', 'http://127.0.0.1/'],
      ['[::1]', 'http://[::1]:8000/cb'],
      ['a private-use scheme', 'cursor://anysphere.cursor-mcp/oauth/callback'],
    ])('accepts a redirect URI on %s', async (_kind, uri) => {
      expect((await registered({ redirect_uris: [uri] }))['redirect_uris']).toEqual([uri]);
    });

    it.each([
      ['a look-alike of localhost (docs/security.md S14)', 'http://localhost.evil.com/cb'],
      ['a look-alike of 127.0.0.1', 'http://127.0.0.1.nip.io/cb'],
      ['upper-case HTTP on a public host', 'HTTP://evil.com/cb'],
      ['javascript:', 'javascript:alert(document.cookie)'],
      ['data:', 'data:text/html,<script>alert(1)</script>'],
      ['file:', 'file:///etc/passwd'],
      ['the out-of-band urn', 'urn:ietf:wg:oauth:2.0:oob'],
      ['non-loopback http', 'http://example.com/cb'],
      ['a fragment', 'https://app.example/cb#x'],
      ['userinfo', 'https://user:pw@app.example/cb'],
      ['a relative reference', '/callback'],
      ['an empty string', ''],
    ])('refuses a redirect URI with %s as invalid_redirect_uri', async (_defect, uri) => {
      expectOAuthError(await register({ redirect_uris: [uri] }), 400, 'invalid_redirect_uri');
    });

    it('refuses the whole registration when one of several redirect URIs is bad', async () => {
      expectOAuthError(
        await register({ redirect_uris: ['https://ok.example/cb', 'javascript:alert(1)'] }),
        400,
        'invalid_redirect_uri',
      );
    });

    it.each([
      ['redirect_uris as a string', { redirect_uris: 'https://a.example/cb' }],
      ['a redirect URI as a number', { redirect_uris: [42] }],
      ['client_name as an object', { ...loopback, client_name: { a: 1 } }],
      ['contacts as a string', { ...loopback, contacts: 'ops@example.com' }],
      ['a body that is an array', [loopback]],
      ['a body that is null', null],
    ])('answers a wrong JSON type (%s) with 400 in RFC 6749 JSON', async (_case, body) => {
      const res = await register(body);
      expect(res.status).toBe(400);
      expect(['invalid_client_metadata', 'invalid_redirect_uri']).toContain(res.json()['error']);
    });

    it('ignores metadata it does not understand (RFC 7591 §2) and never echoes it', async () => {
      const info = await registered({
        ...loopback,
        favourite_colour: 'blue',
        jwks_uri: 'https://a.example/jwks',
        software_statement: 'eyJ.x.y',
      });
      expect(info).not.toHaveProperty('favourite_colour');
      expect(info).not.toHaveProperty('jwks_uri');
    });

    it.each([
      ['malformed JSON', '{"redirect_uris": [', 'application/json', 400],
      ['an empty JSON body', '', 'application/json', 400],
      ['a form body', 'redirect_uris=https%3A%2F%2Fa.example%2Fcb', 'application/x-www-form-urlencoded', 415],
      ['a text body', 'hello', 'text/plain', 415],
      ['an unknown media type', '<x/>', 'application/xml', 415],
      [
        'a prototype-poisoning body',
        '{"redirect_uris":["https://a.example/cb"],"__proto__":{"admin":true}}',
        'application/json',
        400,
      ],
    ])('answers %s with a 4xx RFC 6749 error, never a 5xx', async (_case, body, type, status) => {
      const res = await http(`${auth.url}/register`, { method: 'POST', headers: { 'content-type': type }, body });
      expectOAuthError(res, status, 'invalid_request');
    });

    it('answers URLs the router rejects (bad percent-encoding, over-long client_id) in RFC 6749 JSON with CORS', async () => {
      for (const [path, status] of [
        ['/register/%ff', 400],
        [`/register/${'a'.repeat(5000)}`, 414],
      ] as const) {
        const res = await http(`${auth.url}${path}`, { headers: { origin: 'http://localhost:6274' } });
        expectOAuthError(res, status, 'invalid_request');
        expect(res.headers['access-control-allow-origin']).toBe('*');
      }
    });

    it('caps the request body: a huge registration is 413 invalid_request', async () => {
      const huge = JSON.stringify({ ...loopback, client_name: 'x'.repeat(200_000) });
      expectOAuthError(await register(huge), 413, 'invalid_request');
    });

    it('stores the client secret and registration token only as hashes (docs/security.md S9)', async () => {
      const info = await registered({ ...loopback, token_endpoint_auth_method: 'client_secret_basic' });
      const stored = await redis.get(`${PREFIX}client:${info.client_id}`);
      expect(stored).toContain(info.client_id);
      expect(stored).not.toContain(String(info['client_secret']));
      expect(stored).not.toContain(info.registration_access_token);
    });

    it('expires the client with CLIENT_LIFETIME, in step with client_secret_expires_at', async () => {
      const info = await registered({ ...loopback, token_endpoint_auth_method: 'client_secret_post' });
      const ttl = await redis.ttl(`${PREFIX}client:${info.client_id}`);
      expect(ttl).toBeGreaterThan(LIFETIME - 60);
      expect(ttl).toBeLessThanOrEqual(LIFETIME);
    });
  });

  describe('/register/{client_id}', () => {
    it('GET returns the registration with registration_access_token and registration_client_uri, never the secret', async () => {
      const info = await registered({
        ...loopback,
        client_name: 'Reader',
        token_endpoint_auth_method: 'client_secret_post',
      });
      const res = await manage(info, 'GET');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const read = res.json<Info>();
      expect(read).toMatchObject({
        client_id: info.client_id,
        client_name: 'Reader',
        registration_access_token: info.registration_access_token,
        registration_client_uri: info.registration_client_uri,
      });
      expect(read).not.toHaveProperty('client_secret');
      expect(read['client_secret_expires_at']).toBe(info['client_secret_expires_at']);
    });

    it('accepts the Bearer scheme case-insensitively', async () => {
      const info = await registered();
      const res = await http(`${auth.url}/register/${info.client_id}`, {
        headers: { authorization: `bearer ${info.registration_access_token}` },
      });
      expect(res.status).toBe(200);
    });

    it('answers a missing or wrong-scheme Authorization with 401, WWW-Authenticate: Bearer and RFC 6749 JSON', async () => {
      const info = await registered();
      const attempts: Record<string, string>[] = [
        {},
        { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
        { authorization: info.registration_access_token },
      ];
      for (const headers of attempts) {
        const res = await http(`${auth.url}/register/${info.client_id}`, { headers });
        expectOAuthError(res, 401, 'invalid_token');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
      }
    });

    it('answers a wrong token with 401 invalid_token', async () => {
      const info = await registered();
      const other = await registered();
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await manage(
          info,
          method,
          other.registration_access_token,
          method === 'PUT' ? { ...loopback, client_id: info.client_id } : undefined,
        );
        expectOAuthError(res, 401, 'invalid_token');
        expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      }
      expect((await manage(info, 'GET')).status).toBe(200);
    });

    it('answers an unknown client exactly like a wrong token, so existence does not leak (RFC 7592 §2)', async () => {
      const info = await registered();
      const known = await manage(info, 'GET', 'x'.repeat(43));
      const unknown = await manage({ ...info, client_id: 'no-such-client' }, 'GET', 'x'.repeat(43));
      expect(unknown.status).toBe(401);
      expect(unknown.text).toBe(known.text);
      expect(unknown.headers['www-authenticate']).toBe(known.headers['www-authenticate']);
    });

    it('PUT replaces the whole registration, omitted fields fall back to defaults', async () => {
      const info = await registered({
        ...loopback,
        client_name: 'Before',
        logo_uri: 'https://a.example/logo.png',
        scope: 'mcp',
      });
      const res = await manage(info, 'PUT', undefined, {
        client_id: info.client_id,
        redirect_uris: ['https://app.example/cb'],
      });
      expect(res.status).toBe(200);
      const updated = res.json<Info>();
      expect(updated['redirect_uris']).toEqual(['https://app.example/cb']);
      expect(updated).not.toHaveProperty('client_name');
      expect(updated).not.toHaveProperty('logo_uri');
      expect(updated['scope']).toBe('mcp offline_access');
      expect(updated['client_id_issued_at']).toBe(info['client_id_issued_at']);
    });

    it('PUT validates grant_types and redirect URIs like registration', async () => {
      const info = await registered();
      expectOAuthError(
        await manage(info, 'PUT', undefined, { ...loopback, client_id: info.client_id, grant_types: ['password'] }),
        400,
        'invalid_client_metadata',
      );
      expectOAuthError(
        await manage(info, 'PUT', undefined, { client_id: info.client_id, redirect_uris: ['javascript:alert(1)'] }),
        400,
        'invalid_redirect_uri',
      );
      expectOAuthError(await manage(info, 'PUT', undefined, { ...loopback }), 400, 'invalid_request');
      expectOAuthError(await manage(info, 'PUT', undefined, '{oops'), 400, 'invalid_request');
    });

    it('PUT rotates the registration access token; the old one stops working', async () => {
      const info = await registered();
      const res = await manage(info, 'PUT', undefined, { ...loopback, client_id: info.client_id });
      const updated = res.json<Info>();
      expect(updated.registration_access_token).not.toBe(info.registration_access_token);
      expect((await manage(info, 'GET')).status).toBe(401);
      expect((await manage(updated, 'GET')).status).toBe(200);
    });

    it('PUT keeps the client lifetime: storage TTL and client_secret_expires_at stay in step (RFC 7591 §3.2.1)', async () => {
      const info = await registered({ ...loopback, token_endpoint_auth_method: 'client_secret_basic' });
      const key = `${PREFIX}client:${info.client_id}`;
      await redis.expire(key, 5_000); // as if most of the lifetime had passed
      const updated = (
        await manage(info, 'PUT', undefined, {
          ...loopback,
          client_id: info.client_id,
          token_endpoint_auth_method: 'client_secret_basic',
        })
      ).json<Info>();
      expect(updated['client_secret_expires_at']).toBe(info['client_secret_expires_at']);
      expect(updated).not.toHaveProperty('client_secret');
      const ttl = await redis.ttl(key);
      const expected = (info['client_secret_expires_at'] as number) - Math.floor(Date.now() / 1000);
      expect(Math.abs(ttl - expected)).toBeLessThan(60);
    });

    it('PUT from public to confidential issues a secret once; a wrong client_secret in the body is refused', async () => {
      const info = await registered({ ...loopback, token_endpoint_auth_method: 'none' });
      const res = await manage(info, 'PUT', undefined, {
        ...loopback,
        client_id: info.client_id,
        token_endpoint_auth_method: 'client_secret_post',
      });
      const updated = res.json<Info>();
      expect(typeof updated['client_secret']).toBe('string');
      const wrong = await manage(updated, 'PUT', undefined, {
        ...loopback,
        client_id: info.client_id,
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: 'guess',
      });
      expectOAuthError(wrong, 400, 'invalid_request');
    });

    it('DELETE answers 204, removes the client and everything tracked for it; a second DELETE is 401', async () => {
      const info = await registered();
      // A grant the token side tracked for this client (ClientStore.track writes this index).
      await redis.set(`${PREFIX}refresh-family:test-${info.client_id}`, '{}', 'EX', 600);
      await redis.sadd(`${PREFIX}client-keys:${info.client_id}`, `refresh-family:test-${info.client_id}`);
      const res = await manage(info, 'DELETE');
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(
        await redis.exists(
          `${PREFIX}client:${info.client_id}`,
          `${PREFIX}client-keys:${info.client_id}`,
          `${PREFIX}refresh-family:test-${info.client_id}`,
        ),
      ).toBe(0);
      expectOAuthError(await manage(info, 'DELETE'), 401, 'invalid_token');
      expectOAuthError(await manage(info, 'GET'), 401, 'invalid_token');
    });
  });
});

describe("RFC 7592 DELETE ends the client's grants and tokens", () => {
  const prefix = `e2e-delete-${process.pid}:`;
  let auth: ServiceProcess;
  let fixtures: TokenFixtures;
  beforeAll(async () => {
    fixtures = new TokenFixtures(process.env['REDIS_URL'] ?? '', prefix);
    auth = await startService('auth', { env: { REDIS_URL: process.env['REDIS_URL'] ?? '', STORAGE_PREFIX: prefix } });
  });
  afterAll(async () => {
    await auth.stop();
    fixtures.close();
  });

  it("refuses the deleted client's refresh token and access token", async () => {
    const info = (
      await postJson(`${auth.url}/register`, { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' })
    ).json<Info>();
    const client = { clientId: info.client_id, method: 'none' as const };
    const tokens = await redeem(auth.url, client, await fixtures.code(client));
    expect(tokens.status).toBe(200);
    const deleted = await http(info.registration_client_uri.replace('http://localhost:8080', auth.url), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${info.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    expect((await verify(auth.url, String(tokens.body['access_token']))).status).toBe(401);
    const refreshed = await refresh(auth.url, client, String(tokens.body['refresh_token']));
    expect({ status: refreshed.status, error: refreshed.body['error'] }).toEqual({
      status: 401,
      error: 'invalid_client',
    });
  });
});

describe('registration rate limits', () => {
  let auth: ServiceProcess;
  beforeAll(async () => {
    auth = await startService('auth', {
      env: {
        REDIS_URL: process.env['REDIS_URL'] ?? '',
        STORAGE_PREFIX: `e2e-ratelimit-${process.pid}-${Date.now()}:`,
        REGISTRATION_RATE_LIMIT: '3',
        REGISTRATION_RATE_WINDOW: '600',
      },
    });
  });
  afterAll(() => auth.stop());

  it('answers 429 with Retry-After once an address used up its registrations (docs/security.md S8)', async () => {
    for (let i = 0; i < 3; i++) expect((await postJson(`${auth.url}/register`, loopback)).status).toBe(201);
    const limited = await postJson(`${auth.url}/register`, loopback);
    expect(limited.status).toBe(429);
    expect(limited.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(600);
    expect(limited.headers['access-control-allow-origin']).toBe('*');
  });

  it('does not believe X-Forwarded-For from an untrusted peer', async () => {
    const res = await postJson(`${auth.url}/register`, loopback, { 'x-forwarded-for': '203.0.113.9' });
    expect(res.status).toBe(429);
  });

  it('locks out repeated wrong registration tokens (docs/security.md S8)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await http(`${auth.url}/register/some-client`, { headers: { authorization: `Bearer guess${i}` } })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('registration rate limits behind a trusted proxy', () => {
  let auth: ServiceProcess;
  beforeAll(async () => {
    auth = await startService('auth', {
      env: {
        REDIS_URL: process.env['REDIS_URL'] ?? '',
        STORAGE_PREFIX: `e2e-proxy-${process.pid}-${Date.now()}:`,
        REGISTRATION_RATE_LIMIT: '1',
        TRUSTED_PROXIES: '127.0.0.1/8, ::1',
      },
    });
  });
  afterAll(() => auth.stop());

  it('counts per client address from X-Forwarded-For when the peer is a trusted proxy', async () => {
    const from = (xff: string): Promise<HttpResult> =>
      postJson(`${auth.url}/register`, loopback, { 'x-forwarded-for': xff });
    expect((await from('198.51.100.1')).status).toBe(201);
    expect((await from('198.51.100.1')).status).toBe(429);
    // A client-supplied hop on the left does not help: the right-most untrusted address counts.
    expect((await from('10.9.9.9, 198.51.100.1')).status).toBe(429);
    expect((await from('198.51.100.2')).status).toBe(201);
  });
});

describe('registrations never used expire after UNUSED_CLIENT_LIFETIME', () => {
  const prefix = `e2e-unused-${process.pid}:`;
  const redisUrl = process.env['REDIS_URL'] ?? '';
  let auth: ServiceProcess;
  let fixtures: TokenFixtures;
  beforeAll(async () => {
    fixtures = new TokenFixtures(redisUrl, prefix);
    auth = await startService('auth', {
      env: {
        REDIS_URL: redisUrl,
        STORAGE_PREFIX: prefix,
        CLIENT_LIFETIME: String(LIFETIME),
        UNUSED_CLIENT_LIFETIME: '600',
      },
    });
  });
  afterAll(async () => {
    await auth.stop();
    fixtures.close();
  });

  it('keeps an unused client 600 s, and its whole CLIENT_LIFETIME once it redeemed a code', async () => {
    const info = (
      await postJson(`${auth.url}/register`, { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' })
    ).json<Info>();
    const unusedTtl = await fixtures.redis.ttl(`client:${info.client_id}`);
    expect(unusedTtl).toBeGreaterThan(500);
    expect(unusedTtl).toBeLessThanOrEqual(600);
    // client_secret_expires_at is not sent for a public client; the expiry is the storage TTL.
    const client = { clientId: info.client_id, method: 'none' as const };
    expect((await redeem(auth.url, client, await fixtures.code(client))).status).toBe(200);
    const usedTtl = await fixtures.redis.ttl(`client:${info.client_id}`);
    expect(usedTtl).toBeGreaterThan(LIFETIME - 60);
    expect(usedTtl).toBeLessThanOrEqual(LIFETIME);
  });
});
