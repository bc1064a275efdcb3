import { ConfigValidationError } from '@gateway/config';
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Finds the client's IP for rate limits. Fastify's trustProxy stays off (runService), so by default the
 * TCP peer is the client. Behind a proxy (Traefik) every request comes from the proxy: TRUSTED_PROXIES
 * names the proxies, and then X-Forwarded-For is walked from the right, skipping trusted hops, so a
 * client cannot spoof its address by sending its own X-Forwarded-For. ipaddr.js parses and matches CIDRs.
 */
export class ClientIpResolver {
  private readonly trusted: readonly Range[];

  public constructor(trustedProxies: readonly string[]) {
    const problems: string[] = [];
    this.trusted = trustedProxies.flatMap((entry): Range[] => {
      try {
        return [entry.includes('/') ? ipaddr.parseCIDR(entry) : asHostRange(ipaddr.parse(entry))];
      } catch {
        problems.push(`TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an IP address or CIDR`);
        return [];
      }
    });
    if (problems.length > 0) throw new ConfigValidationError(problems, 'auth');
  }

  public resolve(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    let client = normalise(peer ?? '') ?? 'unknown';
    if (this.trusted.length === 0 || !this.isTrusted(client)) return client;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
      .split(',')
      .map((hop) => hop.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalise(hops[i] ?? '');
      if (!hop) break;
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client;
  }

  /** An address that is not an IP ('unknown': the peer left before the handler ran) is an unknown client, not a proxy. */
  private isTrusted(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    const parsed = ipaddr.parse(address);
    return this.trusted.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  }
}

/**
 * The rate-limit key of an address: IPv4 as is, IPv6 by its /64, because one subscriber usually holds a
 * whole /64 and could otherwise step through addresses to escape a per-address limit.
 */
export function rateLimitKeyOf(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const bytes = parsed.toByteArray().slice(0, 8).concat([0, 0, 0, 0, 0, 0, 0, 0]);
  return `${ipaddr.fromByteArray(bytes).toString()}/64`;
}

function asHostRange(address: ipaddr.IPv4 | ipaddr.IPv6): Range {
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** Canonical text of an address, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4; undefined when not an IP. */
function normalise(value: string): string | undefined {
  if (!ipaddr.isValid(value)) return undefined;
  const parsed = ipaddr.parse(value);
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
    ? (parsed as ipaddr.IPv6).toIPv4Address().toString()
    : parsed.toString();
}
