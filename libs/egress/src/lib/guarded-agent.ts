import { type LookupAddress, promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { AddressPolicy } from './address-policy';
import { EgressFailed } from './errors';

/**
 * Resolves a host name ONCE per connection: the system resolver (getaddrinfo, so /etc/hosts applies),
 * or, when `servers` is set (fetchs' FETCH_DNS_SERVERS, the egress proxy's EGRESS_DNS_SERVERS), those DNS servers directly (A and AAAA).
 */
export class HostResolver {
  private readonly resolver?: dns.Resolver;

  public constructor(servers: readonly string[], timeoutMs: number) {
    if (servers.length > 0) {
      this.resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
      this.resolver.setServers([...servers]);
    }
  }

  public async resolve(host: string): Promise<string[]> {
    if (isIP(host)) return [host];
    try {
      if (!this.resolver) return (await dns.lookup(host, { all: true, verbatim: true })).map(({ address }) => address);
      const answers = await Promise.allSettled([this.resolver.resolve4(host), this.resolver.resolve6(host)]);
      const addresses = answers.flatMap((answer) => (answer.status === 'fulfilled' ? answer.value : []));
      if (addresses.length > 0) return addresses;
      throw (answers[0] as PromiseRejectedResult).reason;
    } catch (error) {
      throw new EgressFailed(`cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
}

export interface GuardedAgentOptions {
  readonly policy: AddressPolicy;
  readonly resolver: Pick<HostResolver, 'resolve'>;
  /** Bound on name resolution plus the TCP/TLS handshake. */
  readonly connectTimeoutMs: number;
  /** Extra trusted CA certificates (PEM) for TLS; tests with a self-signed CA only (auth's CLIENT_FETCH_CA_FILE). */
  readonly ca?: string;
}

/**
 * An undici Agent (fetchs, the egress proxy, auth's client-document fetcher) whose every new connection is checked AFTER name resolution: the host is resolved
 * once, every address is checked against the policy, and the socket is opened to the checked addresses
 * only (they are handed to `net.connect` as its `lookup` answer, so there is no second lookup an attacker
 * could answer differently: no DNS rebinding; Node's happy-eyeballs still tries each checked address).
 * TLS verifies the certificate against the original name. Literal IPs in any spelling reach us already
 * normalised by the WHATWG URL parser (`http://0x7f.1/` → 127.0.0.1) and are checked the same way.
 * undici (the HTTP client inside Node's fetch) rather than a hand-written client: its connector hook is
 * exactly the seam needed, and it handles HTTP/1.1 framing, keep-alive and TLS.
 */
export function createGuardedAgent({ policy, resolver, connectTimeoutMs, ca }: GuardedAgentOptions): Agent {
  const tls = ca ? { ca } : {};
  const connect: buildConnector.connector = (options, callback) => {
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    withTimeout(resolver.resolve(options.hostname), connectTimeoutMs, `resolving ${options.hostname}`)
      .then((addresses) => policy.check(options.hostname, port, addresses))
      .then(
        (checked) =>
          buildConnector({ timeout: connectTimeoutMs, lookup: answerWith(checked), ...tls })(options, callback),
        (error: Error) => callback(error, null),
      );
  };
  return new Agent({ connect });
}

/** A `lookup` for `net.connect` that answers with the already checked addresses and never asks DNS. */
export function answerWith(addresses: readonly string[]): LookupFunction {
  return (_hostname, options, callback) => {
    const all = addresses.map((address) => ({ address, family: isIP(address) }));
    const wanted = all.filter(({ family }) => !options.family || options.family === family);
    const list = wanted.length > 0 ? wanted : all;
    if (options.all) (callback as (error: null, addresses: LookupAddress[]) => void)(null, list);
    else callback(null, list[0]?.address ?? '', list[0]?.family ?? 4);
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EgressFailed(`timed out after ${ms} ms ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
