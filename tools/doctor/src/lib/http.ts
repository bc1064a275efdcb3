import type { LookupFunction } from 'node:net';
import { lookup as dnsLookup } from 'node:dns';
import { Agent, fetch as undiciFetch } from 'undici';

/** `--resolve name=address`: connect to `address` for `name` (like curl --resolve), e.g. before DNS points there. */
export type Overrides = ReadonlyMap<string, string>;

/** A fetch that times out, follows no redirect by itself, and honours `--resolve` (undici's Agent connect hook). */
export function httpClient(overrides: Overrides, timeoutMs = 10_000) {
  const lookup: LookupFunction = (hostname, options, callback) => {
    const address = overrides.get(hostname.toLowerCase());
    if (!address) return dnsLookup(hostname, options, callback);
    const family = address.includes(':') ? 6 : 4;
    if ((options as { all?: boolean }).all) (callback as (...args: unknown[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const dispatcher = new Agent({ connect: { lookup } });
  const request = async (url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> => {
    const { timeoutMs: ms = timeoutMs, ...rest } = init;
    return (await undiciFetch(url, {
      ...(rest as object),
      redirect: 'manual',
      dispatcher,
      signal: init.signal ?? AbortSignal.timeout(ms),
    })) as unknown as Response;
  };
  return { fetch: request, close: () => dispatcher.close() };
}

export type HttpClient = ReturnType<typeof httpClient>;

/** What a network error means, in plain words (TLS, refused, name, timeout). */
export function explainNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { name?: string }).name ?? '';
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code + (cause?.message ?? '')))
    return `TLS failed (${code || cause?.message}): the certificate is not valid for this name or not trusted`;
  if (code === 'ECONNREFUSED') return 'connection refused: nothing listens there';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the name does not resolve (DNS)';
  if (code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'AbortError')
    return 'no answer in time (timeout)';
  return `${code || 'network error'}: ${cause?.message ?? (error as Error).message}`;
}
