import type { Readable } from 'node:stream';
import { AddressPolicy, createGuardedAgent, HostResolver } from '@gateway/egress';
import { type Dispatcher, request } from 'undici';

/**
 * The SSRF-guarded HTTPS fetcher of auth: Client ID Metadata Documents and `jwks_uri` key sets, both URLs a
 * stranger chooses (docs/security.md). The connection guard is fetchs' (`@gateway/egress`): the host is resolved
 * once per connection, every address must be public unicast unless its host is allowed, and the socket connects
 * only to the checked addresses (no DNS rebinding). Redirects are followed by hand here, each hop re-checked.
 */
export interface DocumentFetcher {
  /** GETs `url` (https only) and returns its JSON body and how long it may be cached. */
  fetchJson(url: string): Promise<FetchedDocument>;
}

export interface FetchedDocument {
  readonly body: unknown;
  /** Seconds from the response's `Cache-Control` (RFC 9111 §5.2.2); undefined when it said nothing. */
  readonly maxAgeSeconds?: number;
}

/** Why a document could not be fetched (logged; the client sees a fixed sentence). */
export class DocumentFetchFailed extends Error {
  public override readonly name = 'DocumentFetchFailed';
}

export interface GuardedFetcherOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;
  /** Host names reachable even though their addresses are not public (tests: `localhost`). */
  readonly allowHosts: readonly string[];
  /** DNS servers asked instead of the system resolver (`ip[:port]`; tests: a local DNS stub). */
  readonly dnsServers?: readonly string[];
  /** Extra trusted CA certificates (PEM), for tests only. */
  readonly ca?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class GuardedDocumentFetcher implements DocumentFetcher {
  private readonly dispatcher: Dispatcher;

  public constructor(private readonly options: GuardedFetcherOptions) {
    this.dispatcher = createGuardedAgent({
      policy: new AddressPolicy({
        allow: options.allowHosts,
        deny: [],
        names: { allow: 'CLIENT_FETCH_ALLOW_HOSTS', deny: '', who: 'auth' },
      }),
      resolver: new HostResolver(options.dnsServers ?? [], options.timeoutMs),
      connectTimeoutMs: options.timeoutMs,
      ...(options.ca ? { ca: options.ca } : {}),
    });
  }

  public async fetchJson(input: string): Promise<FetchedDocument> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let url = httpsUrl(input);
    try {
      for (let hop = 0; ; hop++) {
        const response = await request(url, {
          dispatcher: this.dispatcher,
          method: 'GET',
          signal,
          headers: { accept: 'application/json', 'user-agent': 'mcp-oauth-gateway-auth' },
        });
        const location = first(response.headers['location']);
        if (REDIRECTS.has(response.statusCode) && location) {
          discard(response.body);
          if (hop >= this.options.maxRedirects) throw new DocumentFetchFailed('too many redirects');
          url = httpsUrl(new URL(location, url).href);
          continue;
        }
        if (response.statusCode !== 200) {
          discard(response.body);
          throw new DocumentFetchFailed(`${url.host} answered ${response.statusCode}`);
        }
        const text = await readBounded(response.body, this.options.maxBytes);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new DocumentFetchFailed(`${url.href} is not JSON`);
        }
        const maxAgeSeconds = maxAge(first(response.headers['cache-control']));
        return { body, ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}) };
      }
    } catch (error) {
      if (signal.aborted) throw new DocumentFetchFailed(`timed out after ${this.options.timeoutMs} ms`);
      if (error instanceof DocumentFetchFailed) throw error;
      throw new DocumentFetchFailed(`${url.host}: ${(error as Error).message}`);
    }
  }
}

/** draft-ietf-oauth-client-id-metadata-document §3: https only, no credentials in the URL. */
function httpsUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DocumentFetchFailed('not a URL');
  }
  if (url.protocol !== 'https:') throw new DocumentFetchFailed(`refused: ${url.protocol} (https only)`);
  if (url.username || url.password) throw new DocumentFetchFailed('refused: credentials in the URL');
  return url;
}

async function readBounded(body: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new DocumentFetchFailed(`larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } finally {
    discard(body);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** RFC 9111 §5.2.2: `no-store`/`no-cache` → 0, else `max-age` (s-maxage is for shared caches, which this is). */
export function maxAge(cacheControl: string | undefined): number | undefined {
  if (!cacheControl) return undefined;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((part) => part.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
  const value = (name: string): number | undefined => {
    const match = directives.map((d) => new RegExp(`^${name}=(\\d+)$`).exec(d)).find(Boolean);
    return match ? Number(match[1]) : undefined;
  };
  return value('s-maxage') ?? value('max-age');
}

/** Closes a body we stop reading; a destroyed undici body emits 'error', which must not crash the process. */
function discard(body: Readable): void {
  body.on('error', () => undefined).destroy();
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
