import { type LookupAddress, promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, type Dispatcher, request } from 'undici';

/**
 * The SSRF-guarded HTTPS fetcher of auth: Client ID Metadata Documents and `jwks_uri` key sets, both URLs a
 * stranger chooses (docs/security.md). The same defence as fetchs' guarded agent (apps/fetchs/src/fetch/
 * guarded-agent.ts): the host is resolved once per connection, every address is checked, and the socket
 * connects only to the checked addresses (no DNS rebinding); redirects are followed by hand, each hop re-checked.
 * fetchs' copy lives in a `scope:mcp` app that auth may not import; when the shared egress library is tagged
 * `scope:shared`, this file should use it instead (docs/auth.md "Client ID Metadata Documents").
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
  /** Extra trusted CA certificates (PEM), for tests only. */
  readonly ca?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Why `address` is refused, or undefined for an ordinary public unicast address (ipaddr.js range names). */
export function refusedAddress(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const ip = ipaddr.process(address); // ::ffff:a.b.c.d is judged as a.b.c.d
  const range = ip.range();
  if (range !== 'unicast') return range;
  // RFC 4291 §2.4: only 2000::/3 is global unicast; the transition forms (6to4, Teredo, NAT64) are ranges of their own.
  if (ip.kind() === 'ipv6' && !(ip as ipaddr.IPv6).match(ipaddr.parseCIDR('2000::/3'))) return 'not global unicast';
  return undefined;
}

export class GuardedDocumentFetcher implements DocumentFetcher {
  private readonly dispatcher: Dispatcher;

  public constructor(private readonly options: GuardedFetcherOptions) {
    const allowed = new Set(options.allowHosts.map((host) => host.toLowerCase()));
    const tls = options.ca ? { ca: options.ca } : {};
    const connect: buildConnector.connector = (target, callback) => {
      resolveChecked(target.hostname, allowed).then(
        (addresses) =>
          buildConnector({ timeout: options.timeoutMs, lookup: answerWith(addresses), ...tls })(target, callback),
        (error: Error) => callback(error, null),
      );
    };
    this.dispatcher = new Agent({ connect });
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

async function resolveChecked(hostname: string, allowed: ReadonlySet<string>): Promise<string[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : (await dns.lookup(host, { all: true, verbatim: true })).map(({ address }) => address);
  if (allowed.has(host.toLowerCase())) return addresses;
  for (const address of addresses) {
    const refused = refusedAddress(address);
    if (refused) throw new DocumentFetchFailed(`refused: ${host} resolves to a non-public address (${refused})`);
  }
  return addresses;
}

/** A `lookup` for `net.connect` that answers with the already checked addresses and never asks DNS again. */
function answerWith(addresses: readonly string[]): LookupFunction {
  return (_hostname, options, callback) => {
    const all = addresses.map((address) => ({ address, family: isIP(address) }));
    const wanted = all.filter(({ family }) => !options.family || options.family === family);
    const list = wanted.length > 0 ? wanted : all;
    if (options.all) (callback as (error: null, addresses: LookupAddress[]) => void)(null, list);
    else callback(null, list[0]?.address ?? '', list[0]?.family ?? 4);
  };
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
