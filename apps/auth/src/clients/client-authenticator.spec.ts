import { resolveTopology } from '@gateway/catalog';
import { MemoryStore } from '@gateway/storage';
import { OAuthError } from '@gateway/oauth';
import { ClientStore } from '../store/client.store';
import { type ClientRecord, hashSecret, type TokenEndpointAuthMethod } from '../store/records';
import { AuthEnv } from '../config/auth.env';
import { ClientAssertionVerifier } from './client-assertion';
import { ClientAuthenticator } from './client-authenticator';
import { ClientDirectory } from './client-directory';
import { ClientMetadataDocuments } from './client-metadata-documents';
import type { DocumentFetcher } from './document-fetcher';

const SECRET = 's3cret';

async function setup(method: TokenEndpointAuthMethod): Promise<ClientAuthenticator> {
  const store = new ClientStore(new MemoryStore());
  const record: ClientRecord = {
    clientId: 'c1',
    ...(method === 'none' ? {} : { clientSecretHash: hashSecret(SECRET) }),
    registrationTokenHash: 'x',
    issuedAt: 1,
    expiresAt: 0,
    metadata: {
      redirect_uris: ['https://a.example/cb'],
      token_endpoint_auth_method: method,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: 'mcp',
    },
  };
  await store.save(record, 0);
  const env = new AuthEnv();
  const unreachable: DocumentFetcher = { fetchJson: () => Promise.reject(new Error('unreachable')) };
  const topology = resolveTopology({ PUBLIC_URL: 'https://auth.example' });
  return new ClientAuthenticator(
    new ClientDirectory(store, new ClientMetadataDocuments(env, unreachable), env),
    new ClientAssertionVerifier(new MemoryStore(), unreachable, topology, env),
  );
}

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function errorOf(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof OAuthError)) throw new Error(`expected an OAuthError, got ${String(error)}`);
  return error;
}

describe('ClientAuthenticator', () => {
  it.each(['client_secret_basic', 'client_secret_post'] as const)(
    'a client registered with %s may send its secret either way (RFC 6749 §2.3.1)',
    async (registered) => {
      const clients = await setup(registered);
      expect((await clients.authenticate({ authorization: basic('c1', SECRET) })).clientId).toBe('c1');
      expect((await clients.authenticate({ client_id: 'c1', client_secret: SECRET })).clientId).toBe('c1');
    },
  );

  it('refuses both methods in one request with invalid_request (RFC 6749 §2.3)', async () => {
    const clients = await setup('client_secret_basic');
    const error = await errorOf(
      clients.authenticate({ authorization: basic('c1', SECRET), client_id: 'c1', client_secret: SECRET }),
    );
    expect([error.code, error.status]).toEqual(['invalid_request', 400]);
  });

  it('refuses a secret-holding client that sends no secret, and a wrong secret either way', async () => {
    const clients = await setup('client_secret_post');
    expect((await errorOf(clients.authenticate({ client_id: 'c1' }))).code).toBe('invalid_client');
    expect((await errorOf(clients.authenticate({ client_id: 'c1', client_secret: 'no' }))).code).toBe('invalid_client');
    const viaBasic = await errorOf(clients.authenticate({ authorization: basic('c1', 'no') }));
    expect([viaBasic.code, viaBasic.status]).toEqual(['invalid_client', 401]);
    expect(viaBasic.headers?.['www-authenticate']).toMatch(/^Basic /);
  });

  it('refuses a public client that presents a secret', async () => {
    const clients = await setup('none');
    expect((await clients.authenticate({ client_id: 'c1' })).clientId).toBe('c1');
    expect((await errorOf(clients.authenticate({ client_id: 'c1', client_secret: 'x' }))).code).toBe('invalid_client');
  });

  it('answers an unreachable metadata document with 503 temporarily_unavailable and Retry-After', async () => {
    const clients = await setup('none');
    const error = await errorOf(clients.authenticate({ client_id: 'https://app.example/client.json' }));
    expect([error.code, error.status]).toEqual(['temporarily_unavailable', 503]);
    expect(Number(error.headers['retry-after'])).toBeGreaterThan(0);
  });
});
