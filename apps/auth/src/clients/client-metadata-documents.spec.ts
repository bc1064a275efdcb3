import { AuthEnv } from '../config/auth.env';
import {
  clientFromDocument,
  ClientDocumentUnavailable,
  ClientMetadataDocuments,
  isMetadataDocumentUrl,
} from './client-metadata-documents';
import { type DocumentFetcher, type FetchedDocument, maxAge } from './document-fetcher';

const URL_ID = 'https://app.example/oauth/client.json';
const document = {
  client_id: URL_ID,
  client_name: 'Example App',
  redirect_uris: ['https://app.example/callback', 'http://127.0.0.1/cb'],
  token_endpoint_auth_method: 'none',
};

/** A fetcher that answers from a queue and counts calls. */
function fetcherOf(...answers: (FetchedDocument | Error)[]): DocumentFetcher & { calls: number } {
  const fetcher = {
    calls: 0,
    fetchJson: (): Promise<FetchedDocument> => {
      const answer = answers[Math.min(fetcher.calls++, answers.length - 1)] as FetchedDocument | Error;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
  return fetcher;
}

describe('isMetadataDocumentUrl', () => {
  it.each([
    [URL_ID, true],
    ['https://claude.ai/oauth/mcp-oauth-client-metadata', true],
    ['http://app.example/client.json', false],
    ['https://app.example/', false],
    ['https://app.example', false],
    ['https://user:pw@app.example/c', false],
    ['https://app.example/c#frag', false],
    ['https://app.example/a/../c', false],
    ['https://APP.example/c', false], // not in normal form: the id must equal the URL byte for byte
    ['c-1234', false],
  ])('%s → %s', (clientId, expected) => {
    expect(isMetadataDocumentUrl(clientId)).toBe(expected);
  });
});

describe('clientFromDocument', () => {
  it('turns a valid document into a client named by its URL host', () => {
    const client = clientFromDocument(URL_ID, document, false);
    expect(client.clientId).toBe(URL_ID);
    expect(client.metadata.client_name).toBe('Example App');
    expect(client.metadata.token_endpoint_auth_method).toBe('none');
    expect(client.document).toEqual({ host: 'app.example', pinned: false });
  });

  it.each([
    ['a client_id other than the URL', { ...document, client_id: 'https://evil.example/c' }],
    ['a shared secret', { ...document, client_secret: 'x' }],
    ['client_secret_basic', { ...document, token_endpoint_auth_method: 'client_secret_basic' }],
    ['private_key_jwt without keys', { ...document, token_endpoint_auth_method: 'private_key_jwt' }],
    ['no redirect URIs', { ...document, redirect_uris: [] }],
    ['not an object', ['x']],
  ])('refuses %s', (_what, body) => {
    expect(() => clientFromDocument(URL_ID, body, false)).toThrow(
      expect.objectContaining({ code: 'invalid_client_metadata' }),
    );
  });

  it('drops scopes it does not know instead of refusing (RFC 6749 §3.3)', () => {
    expect(clientFromDocument(URL_ID, { ...document, scope: 'mcp claudeai' }, false).metadata.scope).toBe('mcp');
  });

  it('keeps private_key_jwt with its jwks_uri', () => {
    const client = clientFromDocument(
      URL_ID,
      { ...document, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/jwks.json' },
      false,
    );
    expect(client.metadata.jwks_uri).toBe('https://app.example/jwks.json');
  });
});

describe('ClientMetadataDocuments', () => {
  const env = Object.assign(new AuthEnv(), { CLIENT_DOCUMENT_CACHE_SIZE: 2 });

  it('fetches once and serves the cached document until it expires', async () => {
    const fetcher = fetcherOf({ body: document, maxAgeSeconds: 600 });
    const documents = new ClientMetadataDocuments(env, fetcher);
    expect((await documents.resolve(URL_ID)).metadata.client_name).toBe('Example App');
    await Promise.all([documents.resolve(URL_ID), documents.resolve(URL_ID)]);
    expect(fetcher.calls).toBe(1);
  });

  it('shares one fetch between concurrent first lookups', async () => {
    const fetcher = fetcherOf({ body: document });
    const documents = new ClientMetadataDocuments(env, fetcher);
    await Promise.all([documents.resolve(URL_ID), documents.resolve(URL_ID), documents.resolve(URL_ID)]);
    expect(fetcher.calls).toBe(1);
  });

  it('keeps a bounded number of documents (least recently used dropped)', async () => {
    const fetcher = {
      calls: 0,
      fetchJson(url: string): Promise<FetchedDocument> {
        this.calls++;
        return Promise.resolve({ body: { ...document, client_id: url } });
      },
    };
    const documents = new ClientMetadataDocuments(env, fetcher);
    for (const name of ['a', 'b', 'c', 'a']) await documents.resolve(`https://app.example/${name}`);
    expect(fetcher.calls).toBe(4); // a was dropped when c came (size 2)
  });

  it('an unreachable document without a pin is ClientDocumentUnavailable with a retry delay', async () => {
    const documents = new ClientMetadataDocuments(env, fetcherOf(new Error('ECONNREFUSED')));
    const error: unknown = await documents.resolve(URL_ID).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientDocumentUnavailable);
    expect((error as ClientDocumentUnavailable).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('an invalid live document is unavailable too (its client_id differs)', async () => {
    const fetcher = fetcherOf({ body: { ...document, client_id: 'https://other.example/c' } });
    await expect(new ClientMetadataDocuments(env, fetcher).resolve(URL_ID)).rejects.toBeInstanceOf(
      ClientDocumentUnavailable,
    );
  });

  it('falls back to the pinned Claude.ai document when its live fetch fails', async () => {
    const claude = 'https://claude.ai/oauth/mcp-oauth-client-metadata';
    const client = await new ClientMetadataDocuments(env, fetcherOf(new Error('403 challenge'))).resolve(claude);
    expect(client.metadata.redirect_uris).toEqual(['https://claude.ai/api/mcp/auth_callback']);
    expect(client.metadata.token_endpoint_auth_method).toBe('none');
    expect(client.document).toEqual({ host: 'claude.ai', pinned: true });
  });

  it('prefers the live document over the pin when it is reachable', async () => {
    const claude = 'https://claude.ai/oauth/mcp-oauth-client-metadata';
    const live = { ...document, client_id: claude, client_name: 'Claude (live)' };
    const client = await new ClientMetadataDocuments(env, fetcherOf({ body: live })).resolve(claude);
    expect([client.metadata.client_name, client.document?.pinned]).toEqual(['Claude (live)', false]);
  });
});

describe('document fetcher helpers', () => {
  it('reads the cache lifetime from Cache-Control (RFC 9111 §5.2.2)', () => {
    expect(maxAge('public, max-age=600')).toBe(600);
    expect(maxAge('max-age=600, s-maxage=60')).toBe(60);
    expect(maxAge('no-store')).toBe(0);
    expect(maxAge(undefined)).toBeUndefined();
  });
});
