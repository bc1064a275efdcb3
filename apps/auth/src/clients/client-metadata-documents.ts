import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { checkRedirectUri, OAuthError, SUPPORTED_SCOPES, validateClientMetadata } from '@gateway/oauth';
import { LRUCache } from 'lru-cache';
import { AuthEnv } from '../config/auth.env';
import type { ClientMetadata, ClientRecord } from '../store/records';
import { type DocumentFetcher, GuardedDocumentFetcher } from './document-fetcher';
import { PINNED_DOCUMENTS } from './pinned';

export const DOCUMENT_FETCHER = Symbol('DOCUMENT_FETCHER');

/** Nest provider of the guarded fetcher, configured from AuthEnv (tests inject their own). */
export const documentFetcherProvider = {
  provide: DOCUMENT_FETCHER,
  inject: [AuthEnv],
  useFactory: (env: AuthEnv): DocumentFetcher =>
    new GuardedDocumentFetcher({
      timeoutMs: env.CLIENT_FETCH_TIMEOUT_MS,
      maxBytes: env.CLIENT_FETCH_MAX_BYTES,
      maxRedirects: 3,
      allowHosts: env.CLIENT_FETCH_ALLOW_HOSTS,
      dnsServers: env.CLIENT_FETCH_DNS_SERVERS,
      ...(env.CLIENT_FETCH_CA_FILE ? { ca: readFileSync(env.CLIENT_FETCH_CA_FILE, 'utf8') } : {}),
    }),
};

/** The client's document could not be fetched or is not valid, and no pinned copy exists. */
export class ClientDocumentUnavailable extends Error {
  public override readonly name = 'ClientDocumentUnavailable';
  public constructor(
    public readonly clientId: string,
    /** Seconds the client should wait before trying again (the failure is cached that long). */
    public readonly retryAfterSeconds: number,
    reason: string,
  ) {
    super(reason);
  }
}

// Cache lifetimes: the document's own Cache-Control within [MIN, MAX]; DEFAULT when it says nothing. The floor
// bounds how often one client_id makes us fetch; a failure is remembered for FAILURE seconds for the same reason.
const MIN_TTL = 60;
const DEFAULT_TTL = 300;
const MAX_TTL = 24 * 3600;
const FAILURE_TTL = 30;

/**
 * draft-ietf-oauth-client-id-metadata-document §3: a client_id that is an https URL with a path names the
 * client's metadata document. No fragment, no credentials, no dot segments (the URL must be in normal form).
 */
export function isMetadataDocumentUrl(clientId: string): boolean {
  if (!clientId.startsWith('https://') || clientId.length > 2000) return false;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  return (
    url.href === clientId &&
    url.pathname.length > 1 &&
    !url.hash &&
    !url.username &&
    !url.password &&
    !/\/\.\.?(\/|$)/.test(url.pathname)
  );
}

type Entry = { readonly record: ClientRecord } | { readonly failure: string };

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25 authorization
 * "Client ID Metadata Documents"): the client_id URL is fetched through the guarded fetcher and the document
 * becomes the client's metadata for this request. Cached by HTTP caching headers in a bounded LRU; a pinned copy
 * (clients/pinned/) answers when the live fetch fails.
 */
@Injectable()
export class ClientMetadataDocuments {
  private readonly logger = new Logger(ClientMetadataDocuments.name);
  private readonly cache: LRUCache<string, Entry>;
  private readonly inFlight = new Map<string, Promise<Entry>>();

  public constructor(
    env: AuthEnv,
    @Inject(DOCUMENT_FETCHER) private readonly fetcher: DocumentFetcher,
  ) {
    this.cache = new LRUCache<string, Entry>({ max: env.CLIENT_DOCUMENT_CACHE_SIZE, ttlAutopurge: false });
  }

  /** The client of this document URL, or ClientDocumentUnavailable. */
  public async resolve(clientId: string): Promise<ClientRecord> {
    const entry = this.cache.get(clientId) ?? (await this.load(clientId));
    if ('record' in entry) return entry.record;
    const remaining = Math.ceil(this.cache.getRemainingTTL(clientId) / 1000);
    throw new ClientDocumentUnavailable(clientId, Math.max(1, Math.min(remaining, FAILURE_TTL)), entry.failure);
  }

  private load(clientId: string): Promise<Entry> {
    const pending = this.inFlight.get(clientId);
    if (pending) return pending;
    const loading = this.fetchEntry(clientId).finally(() => this.inFlight.delete(clientId));
    this.inFlight.set(clientId, loading);
    return loading;
  }

  private async fetchEntry(clientId: string): Promise<Entry> {
    let entry: Entry;
    let ttl: number;
    try {
      const fetched = await this.fetcher.fetchJson(clientId);
      entry = { record: clientFromDocument(clientId, fetched.body, false) };
      ttl = Math.min(MAX_TTL, Math.max(MIN_TTL, fetched.maxAgeSeconds ?? DEFAULT_TTL));
    } catch (error) {
      const reason = error instanceof OAuthError ? error.message : (error as Error).message;
      const pinned = PINNED_DOCUMENTS.get(clientId);
      if (pinned) {
        this.logger.warn({ clientId, reason }, 'client metadata document unavailable; using the pinned copy');
        entry = { record: clientFromDocument(clientId, pinned.document, true) };
      } else {
        this.logger.warn({ clientId, reason }, 'client metadata document unavailable');
        entry = { failure: reason };
      }
      ttl = FAILURE_TTL;
    }
    this.cache.set(clientId, entry, { ttl: ttl * 1000 });
    return entry;
  }
}

/**
 * Validates a document (draft-ietf-oauth-client-id-metadata-document §4): `client_id` equal to the URL; no
 * shared secret (`client_secret*`, `client_secret_*` auth methods); `none` or `private_key_jwt` with keys. The
 * rest is RFC 7591 metadata checked like a registration; scopes this server does not know are left out.
 */
export function clientFromDocument(url: string, body: unknown, pinned: boolean): ClientRecord {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('the client metadata document is not a JSON object');
  const document = body as Record<string, unknown>;
  if (document['client_id'] !== url) throw invalid('client_id in the metadata document differs from its URL');
  if (document['client_secret'] !== undefined || document['client_secret_expires_at'] !== undefined)
    throw invalid('a client metadata document must not carry a client secret');
  const method = document['token_endpoint_auth_method'] ?? 'none';
  if (method !== 'none' && method !== 'private_key_jwt')
    throw invalid(`token_endpoint_auth_method ${String(method)} is not allowed in a client metadata document`);

  const known = typeof document['scope'] === 'string' ? forgivingScope(document['scope']) : undefined;
  const { jwks, jwks_uri: jwksUri, ...rest } = document;
  const base = validateClientMetadata({ ...rest, token_endpoint_auth_method: 'none', scope: known });
  const metadata: ClientMetadata = {
    ...base,
    token_endpoint_auth_method: method,
    ...(method === 'private_key_jwt' ? keysOf(jwks, jwksUri) : {}),
  };
  for (const uri of metadata.redirect_uris) checkRedirectUri(uri);
  return {
    clientId: url,
    registrationTokenHash: '',
    issuedAt: 0,
    expiresAt: 0,
    metadata,
    document: { host: new URL(url).host, pinned },
  };
}

function keysOf(jwks: unknown, jwksUri: unknown): Pick<ClientMetadata, 'jwks' | 'jwks_uri'> {
  // RFC 7591 §2: jwks and jwks_uri MUST NOT both be present.
  if ((jwks === undefined) === (jwksUri === undefined))
    throw invalid('private_key_jwt needs exactly one of jwks and jwks_uri');
  if (jwksUri !== undefined) {
    if (typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) throw invalid('jwks_uri must be an https URL');
    return { jwks_uri: jwksUri };
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === 'object' && key !== null))
    throw invalid('jwks must be a JWK Set with at least one key');
  return { jwks: { keys: keys as Record<string, unknown>[] } };
}

/** RFC 6749 §3.3: the server may grant less than asked; unknown scopes are dropped, not refused. */
function forgivingScope(scope: string): string | undefined {
  const known = scope.split(' ').filter((value) => (SUPPORTED_SCOPES as readonly string[]).includes(value));
  return known.length > 0 ? known.join(' ') : undefined;
}

function invalid(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}
