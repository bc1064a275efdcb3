import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { IDENTITY_HEADERS } from '@gateway/contracts';
import { type Dispatcher, request } from 'undici';
import { FetchFailed, FetchRefused } from './fetch-errors';

export type FetchMethod = 'GET' | 'HEAD' | 'POST';

export interface FetchRequest {
  readonly url: string;
  readonly method?: FetchMethod;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface FetchLimits {
  /** Largest (decoded) body kept; the rest is never read. */
  readonly maxBytes: number;
  readonly maxRedirects: number;
  /** Bound on the whole exchange, redirects and body included. */
  readonly timeoutMs: number;
  readonly userAgent: string;
}

export interface FetchedResponse {
  /** The URL that answered (after redirects). */
  readonly url: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** True when the body was cut at `maxBytes`. */
  readonly truncated: boolean;
}

/** Called before every hop (the first request and each redirect target), e.g. for robots.txt. */
export type HopCheck = (url: URL) => Promise<void>;

/**
 * Request headers the caller may not set: Host and hop-by-hop headers (RFC 9110 §7.6.1, §7.2), credentials
 * (the caller's own tokens must never be forwarded, RFC 9110 §11.6), forwarding and gateway identity headers
 * internal services may trust, the encoding we decode ourselves, and the user agent robots.txt is matched against.
 */
const FORBIDDEN_HEADER =
  /^(host|connection|keep-alive|te|trailer|transfer-encoding|upgrade|content-length|expect|authorization|cookie|proxy-.*|forwarded|x-forwarded-.*|x-real-ip|accept-encoding|user-agent)$/;
const IDENTITY_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(IDENTITY_HEADERS));
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/; // RFC 9110 §5.6.2 token

/** Redirect statuses that carry a Location (RFC 9110 §15.4). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The request headers after the caller's headers passed the safe-subset check. */
export function safeHeaders(headers: Readonly<Record<string, string>> = {}): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!HEADER_NAME.test(name)) throw new FetchFailed(`"${rawName}" is not a valid header name`);
    if (FORBIDDEN_HEADER.test(name) || IDENTITY_HEADER_NAMES.has(name))
      throw new FetchRefused(
        `header "${rawName}" may not be set (host, hop-by-hop, credential, forwarding and identity headers are refused)`,
      );
    if (/[\r\n\0]/.test(value)) throw new FetchFailed(`header "${rawName}" has a control character`);
    safe[name] = value;
  }
  return safe;
}

/** Only http and https (the WHATWG URL parser normalises every IP spelling on the way). */
export function parseFetchUrl(input: string | URL, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    throw new FetchFailed(`"${String(input)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchRefused(`refused: scheme "${url.protocol.replace(/:$/, '')}" (only http and https)`);
  }
  if (url.username || url.password)
    throw new FetchRefused('refused: URLs with credentials (user:password@) are not fetched');
  return url;
}

/**
 * HTTP through a guarded dispatcher: follows redirects itself (each hop re-checked by the dispatcher's
 * connect guard and by `onHop`), bounds time, and streams the body, stopping at `maxBytes` decoded bytes.
 */
export async function fetchBounded(
  dispatcher: Dispatcher,
  input: FetchRequest,
  limits: FetchLimits,
  onHop?: HopCheck,
): Promise<FetchedResponse> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url = parseFetchUrl(input.url);
  let method: FetchMethod = input.method ?? 'GET';
  let body = method === 'POST' ? input.body : undefined;
  const headers = safeHeaders(input.headers);
  try {
    for (let redirects = 0; ; redirects++) {
      await onHop?.(url);
      const response = await request(url, {
        dispatcher,
        method,
        body,
        signal,
        headers: { ...headers, 'user-agent': limits.userAgent, 'accept-encoding': 'gzip, deflate, br' },
      });
      const location = header(response.headers, 'location');
      if (REDIRECTS.has(response.statusCode) && location) {
        discard(response.body);
        if (redirects >= limits.maxRedirects)
          throw new FetchFailed(`too many redirects (more than ${limits.maxRedirects})`);
        url = parseFetchUrl(location, url);
        if (switchesToGet(response.statusCode, method)) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      if (method === 'HEAD') discard(response.body); // no body, and nothing to decode
      const { data, truncated } =
        method === 'HEAD'
          ? { data: Buffer.alloc(0), truncated: false }
          : await readBounded(response.body, header(response.headers, 'content-encoding'), limits.maxBytes);
      return { url: url.href, status: response.statusCode, headers: flatten(response.headers), body: data, truncated };
    }
  } catch (error) {
    if (signal.aborted) throw new FetchFailed(`timed out after ${limits.timeoutMs} ms (FETCH_TIMEOUT_MS)`);
    if (error instanceof FetchRefused || error instanceof FetchFailed) throw error;
    const cause = error as NodeJS.ErrnoException;
    throw new FetchFailed(`${url.host}: ${cause.code ? `${cause.code} ` : ''}${cause.message}`);
  }
}

/** RFC 9110 §15.4.4: 303 turns any method but HEAD into GET; §15.4.2-3: 301/302 turn POST into GET; 307/308 keep it. */
function switchesToGet(status: number, method: FetchMethod): boolean {
  return status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
}

/** Reads at most `maxBytes` decoded bytes; the rest is never read (the connection is closed). */
async function readBounded(
  body: Readable,
  encoding: string | undefined,
  maxBytes: number,
): Promise<{ data: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  let decoder: Transform | undefined;
  try {
    decoder = decoderFor(encoding);
    const source = decoder ? pipeline(body, decoder, () => undefined) : body;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (size + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } finally {
    discard(body);
    decoder?.destroy();
  }
  return { data: Buffer.concat(chunks, size), truncated };
}

/** A streaming decoder: output is produced as it is read, so a decompression bomb stops at `maxBytes` too. */
function decoderFor(encoding: string | undefined): Transform | undefined {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new FetchFailed(`unsupported content-encoding "${encoding}"`);
  }
}

/** Closes a body we stop reading (undici then closes the connection instead of draining it). */
function discard(body: Readable): void {
  body.on('error', () => undefined).destroy();
}

type RawHeaders = Record<string, string | string[] | undefined>;

function header(headers: RawHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function flatten(headers: RawHeaders): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value as string)]),
  );
}
