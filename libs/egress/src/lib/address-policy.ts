import ipaddr from 'ipaddr.js';
import { EgressRefused } from './errors';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Why an address class is refused, in words for the tool result (ipaddr.js range name → reason). */
const REFUSED_RANGES: Readonly<Record<string, string>> = {
  unspecified: 'unspecified address',
  broadcast: 'broadcast address',
  multicast: 'multicast address',
  loopback: 'loopback address',
  private: 'private network (RFC 1918)',
  linkLocal: 'link-local address (includes cloud metadata 169.254.169.254)',
  carrierGradeNat: 'carrier-grade NAT (RFC 6598, 100.64.0.0/10)',
  reserved: 'reserved or documentation range',
  as112: 'AS112 sink range',
  amt: 'AMT relay range',
  uniqueLocal: 'unique-local IPv6 (fc00::/7, includes cloud metadata fd00:ec2::254)',
  deprecatedSiteLocal: 'site-local IPv6 (fec0::/10)',
  discard: 'discard-only IPv6 (100::/64)',
  rfc6145: 'IPv4-translated IPv6 (RFC 6145)',
  benchmarking: 'benchmarking range',
  as112v6: 'AS112 sink range',
  deprecatedOrchid: 'ORCHID range',
  orchid2: 'ORCHIDv2 range',
  droneRemoteIdProtocolEntityTags: 'DRIP entity tags',
  segmentRouting: 'segment-routing SIDs',
};

/** RFC 4291 §2.4: global unicast is 2000::/3; everything else is special-purpose. */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
/** RFC 6052 §2.1: the NAT64 well-known prefix; its last 32 bits are the IPv4 destination. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * Why fetchs refuses to connect to `address`, or undefined when it is an ordinary public address.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it is; the transition forms that
 * embed an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are judged by the
 * embedded address, so that none of them reaches private space through a translator.
 */
export function refusedAddressClass(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const ip = ipaddr.process(address); // ::ffff:a.b.c.d → a.b.c.d
  if (ip.kind() === 'ipv4') {
    const range = ip.range();
    return range === 'unicast' ? undefined : (REFUSED_RANGES[range] ?? range);
  }
  const v6 = ip as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) {
    const inner = refusedAddressClass(embedded.address);
    return inner ? `${embedded.form} of ${embedded.address}: ${inner}` : undefined;
  }
  const range = v6.range();
  if (range !== 'unicast') return REFUSED_RANGES[range] ?? range;
  // The rest of ::/8 includes the deprecated IPv4-compatible form ::a.b.c.d (RFC 4291 §2.5.5.1).
  if (!v6.match(IPV6_GLOBAL_UNICAST)) return 'not a global unicast IPv6 address (outside 2000::/3)';
  return undefined;
}

function embeddedIPv4(ip: ipaddr.IPv6): { form: string; address: string } | undefined {
  const bytes = ip.toByteArray();
  if (ip.match(NAT64_WELL_KNOWN)) return { form: 'NAT64 (64:ff9b::/96)', address: bytes.slice(12).join('.') };
  switch (ip.range()) {
    case '6to4': // RFC 3056 §2: 2002:AABB:CCDD::/48 → AA.BB.CC.DD
      return { form: '6to4 (2002::/16)', address: bytes.slice(2, 6).join('.') };
    case 'teredo': // RFC 4380 §4: the client's IPv4 address is the last 32 bits, inverted
      return {
        form: 'Teredo (2001::/32)',
        address: bytes
          .slice(12)
          .map((byte) => byte ^ 0xff)
          .join('.'),
      };
    default:
      return undefined;
  }
}

/** One FETCH_ALLOW / FETCH_DENY entry: a host name (`*.` for subdomains) or an IP/CIDR, optionally with a port. */
interface Rule {
  readonly host?: string;
  readonly wildcard?: boolean;
  readonly cidr?: [Address, number];
  readonly port?: number;
}

/**
 * Parses `host`, `*.example.com`, `10.0.0.0/8`, `192.168.1.5`, `fd00::/8`, `[::1]`, each optionally with
 * `:port` (IPv6 with a port in brackets: `[fd00::1]:8080`, `[fd00::/8]:8080`). Throws on anything else.
 */
export function parseRule(entry: string): Rule {
  let text = entry.trim().toLowerCase();
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const hostPort = /^([^:]+):(\d+)$/.exec(text);
  const split = bracketed ?? hostPort;
  if (split) {
    text = split[1] ?? '';
    port = split[2] === undefined ? undefined : Number(split[2]);
  }
  if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`port ${port} is out of range`);
  if (/^[^/]+\/\d+$/.test(text)) {
    if (!ipaddr.isValidCIDR(text)) throw new Error('not a valid CIDR range');
    return { cidr: normaliseCidr(ipaddr.parseCIDR(text)), port };
  }
  if (ipaddr.isValid(text)) {
    const ip = ipaddr.process(text);
    return { cidr: [ip, ip.kind() === 'ipv4' ? 32 : 128], port };
  }
  const wildcard = text.startsWith('*.');
  const host = wildcard ? text.slice(2) : text;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(host)) {
    throw new Error('not a host name, IP address or CIDR range (no scheme or path)');
  }
  return { host: host.replace(/\.$/, ''), wildcard, port };
}

/** ::ffff:0:0/96 ranges are written as IPv4 ranges, so they match `ipaddr.process`ed addresses. */
function normaliseCidr([ip, bits]: [Address, number]): [Address, number] {
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(ip as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [ip, bits];
}

function matches(rule: Rule, host: string, address: Address, port: number): boolean {
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.cidr) return rule.cidr[0].kind() === address.kind() && address.match(rule.cidr);
  const name = host.toLowerCase().replace(/\.$/, '');
  return rule.wildcard ? name.endsWith(`.${rule.host}`) : name === rule.host;
}

export interface PolicyLists {
  /** Destinations reachable even though their address class is refused (fetchs: FETCH_ALLOW). */
  readonly allow: readonly string[];
  /** Destinations refused even though their address is public. Wins over the allow-list (fetchs: FETCH_DENY). */
  readonly deny: readonly string[];
  /** Names in messages: the configuration keys of the two lists and who is refusing (default: fetchs' own). */
  readonly names?: { readonly allow: string; readonly deny: string; readonly who: string };
}

const FETCHS_NAMES = { allow: 'FETCH_ALLOW', deny: 'FETCH_DENY', who: 'fetchs' } as const;

/**
 * Decides, after DNS resolution, whether fetchs (or the egress proxy) may connect to `host:port` at the given addresses.
 * Every address must pass (a name that resolves to one public and one private address is refused).
 */
export class AddressPolicy {
  private readonly allow: readonly Rule[];
  private readonly deny: readonly Rule[];
  private readonly names: NonNullable<PolicyLists['names']>;

  /** Throws an Error naming the first bad entry. */
  public constructor(lists: PolicyLists) {
    const parse = (key: string, entries: readonly string[]): Rule[] =>
      entries.map((entry) => {
        try {
          return parseRule(entry);
        } catch (error) {
          throw new Error(`${key} entry "${entry}": ${(error as Error).message}`);
        }
      });
    this.names = lists.names ?? FETCHS_NAMES;
    this.allow = parse(this.names.allow, lists.allow);
    this.deny = parse(this.names.deny, lists.deny);
  }

  /** Throws EgressRefused unless every address may be reached; returns the addresses, normalised. */
  public check(host: string, port: number, addresses: readonly string[]): string[] {
    if (addresses.length === 0) throw new EgressRefused(`${host} has no address`);
    return addresses.map((text) => {
      const address = ipaddr.process(text);
      const shown = address.toString();
      const target = shown === host ? host : `${host} (${shown})`;
      if (this.deny.some((rule) => matches(rule, host, address, port))) {
        throw new EgressRefused(`refused: ${target} is on the deny-list (${this.names.deny})`);
      }
      if (this.allow.some((rule) => matches(rule, host, address, port))) return shown;
      const refused = refusedAddressClass(shown);
      if (refused)
        throw new EgressRefused(
          `refused: ${target} is not public (${refused}); ${this.names.who} reaches only public addresses unless ${this.names.allow} lists them`,
        );
      return shown;
    });
  }
}
