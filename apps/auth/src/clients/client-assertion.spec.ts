import { resolveTopology } from '@gateway/catalog';
import { OAuthError } from '@gateway/oauth';
import { MemoryStore } from '@gateway/storage';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { AuthEnv } from '../config/auth.env';
import type { ClientRecord } from '../store/records';
import { ClientAssertionVerifier } from './client-assertion';
import type { DocumentFetcher } from './document-fetcher';

const ISSUER = 'https://auth.example';
const TOKEN_URL = `${ISSUER}/token`;
const CLIENT_ID = 'https://chat.example/oauth/abc/client.json';
const JWKS_URI = 'https://chat.example/oauth/jwks.json';

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

function clientWith(keys: { jwks?: { keys: JWK[] }; jwks_uri?: string }): ClientRecord {
  return {
    clientId: CLIENT_ID,
    registrationTokenHash: '',
    issuedAt: 0,
    expiresAt: 0,
    metadata: {
      redirect_uris: ['https://chat.example/connector/oauth/abc'],
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: 'mcp',
      ...(keys as object),
    } as ClientRecord['metadata'],
  };
}

async function assertion(
  key: Keys['privateKey'],
  claims: { aud?: string; iss?: string; sub?: string; exp?: number; jti?: string } = {},
  alg = 'RS256',
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: claims.jti ?? `j-${Math.random()}` })
    .setProtectedHeader({ alg, kid: 'k1' })
    .setIssuer(claims.iss ?? CLIENT_ID)
    .setSubject(claims.sub ?? CLIENT_ID)
    .setAudience(claims.aud ?? TOKEN_URL)
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 60)
    .sign(key);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return error instanceof OAuthError ? `${error.status} ${error.code}` : `no error: ${String(error)}`;
}

describe('ClientAssertionVerifier (RFC 7523 §2.2, §3)', () => {
  let rsa: Keys;
  let jwk: JWK;
  let fetches: number;
  let verifier: ClientAssertionVerifier;
  const fetcher: DocumentFetcher = {
    fetchJson: () => {
      fetches++;
      return Promise.resolve({ body: { keys: [jwk] } });
    },
  };

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256' };
  });
  beforeEach(() => {
    fetches = 0;
    verifier = new ClientAssertionVerifier(
      new MemoryStore(),
      fetcher,
      resolveTopology({ PUBLIC_URL: ISSUER }),
      new AuthEnv(),
    );
  });

  it('accepts an RS256 assertion verified with the jwks_uri keys, fetched once and cached', async () => {
    const client = clientWith({ jwks_uri: JWKS_URI });
    await verifier.verify(client, await assertion(rsa.privateKey), '/token');
    await verifier.verify(client, await assertion(rsa.privateKey, { aud: ISSUER }), '/token');
    expect(fetches).toBe(1);
  });

  it("at a service's own token endpoint, accepts that endpoint's URL and that server's issuer as aud (RFC 7523 §3)", async () => {
    const client = clientWith({ jwks_uri: JWKS_URI });
    const path = '/as/echo-stateless/token';
    for (const aud of [`${ISSUER}${path}`, `${ISSUER}/as/echo-stateless`, TOKEN_URL])
      await expect(verifier.verify(client, await assertion(rsa.privateKey, { aud }), path)).resolves.toBe(undefined);
    const elsewhere = await assertion(rsa.privateKey, { aud: `${ISSUER}/as/fetchs/token` });
    expect(await codeOf(verifier.verify(client, elsewhere, path))).toBe('401 invalid_client');
    const scoped = await assertion(rsa.privateKey, { aud: `${ISSUER}${path}` });
    expect(await codeOf(verifier.verify(client, scoped, '/token'))).toBe('401 invalid_client');
  });

  it('accepts ES256 with keys by value (jwks)', async () => {
    const ec = await generateKeyPair('ES256');
    const client = clientWith({ jwks: { keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'k1' }] } });
    await expect(verifier.verify(client, await assertion(ec.privateKey, {}, 'ES256'), '/token')).resolves.toBe(
      undefined,
    );
  });

  it('refuses a replayed jti', async () => {
    const client = clientWith({ jwks_uri: JWKS_URI });
    const jwt = await assertion(rsa.privateKey, { jti: 'once' });
    await verifier.verify(client, jwt, '/token');
    expect(await codeOf(verifier.verify(client, jwt, '/token'))).toBe('401 invalid_client');
  });

  it.each([
    ['a wrong aud', { aud: 'https://other.example/token' }],
    ['an iss other than the client', { iss: 'https://evil.example/c' }],
    ['a sub other than the client', { sub: 'https://evil.example/c' }],
    ['an expired assertion', { exp: Math.floor(Date.now() / 1000) - 120 }],
    ['a far-future exp', { exp: Math.floor(Date.now() / 1000) + 3600 }],
  ])('refuses %s with 401 invalid_client', async (_what, claims) => {
    const client = clientWith({ jwks_uri: JWKS_URI });
    expect(await codeOf(verifier.verify(client, await assertion(rsa.privateKey, claims), '/token'))).toBe(
      '401 invalid_client',
    );
  });

  it('refuses a signature by another key, after fetching the JWK Set once more (rotation)', async () => {
    const other = await generateKeyPair('RS256');
    const client = clientWith({ jwks_uri: JWKS_URI });
    await verifier.verify(client, await assertion(rsa.privateKey), '/token');
    expect(await codeOf(verifier.verify(client, await assertion(other.privateKey), '/token'))).toBe(
      '401 invalid_client',
    );
  });

  it('refuses an HMAC or unsigned assertion', async () => {
    const client = clientWith({ jwks_uri: JWKS_URI });
    const hs = await new SignJWT({ jti: 'h' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(CLIENT_ID)
      .setSubject(CLIENT_ID)
      .setAudience(TOKEN_URL)
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('a-shared-secret-of-enough-length!'));
    expect(await codeOf(verifier.verify(client, hs, '/token'))).toBe('401 invalid_client');
  });

  it('an unreachable jwks_uri is 503 temporarily_unavailable, not a crash', async () => {
    const down = new ClientAssertionVerifier(
      new MemoryStore(),
      { fetchJson: () => Promise.reject(new Error('ECONNREFUSED')) },
      resolveTopology({ PUBLIC_URL: ISSUER }),
      new AuthEnv(),
    );
    const client = clientWith({ jwks_uri: JWKS_URI });
    expect(await codeOf(down.verify(client, await assertion(rsa.privateKey), '/token'))).toBe(
      '503 temporarily_unavailable',
    );
  });
});
