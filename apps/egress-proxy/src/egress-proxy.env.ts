import { BaseEnv, ConfigValidationError, EnvInt, EnvList } from '@gateway/config';
import { AddressPolicy } from '@gateway/egress';

/** Configuration of the egress proxy container (docs/security.md, "Egress"); the same keys as stdio-proxy's in-process one. */
export class EgressProxyEnv extends BaseEnv {
  public override PORT = 3128;

  /** Destinations reachable despite a refused address class (fetchs' FETCH_ALLOW syntax). Never the gateway's own services. */
  @EnvList()
  public EGRESS_ALLOW: string[] = [];

  /** Destinations always refused (wins over EGRESS_ALLOW). */
  @EnvList()
  public EGRESS_DENY: string[] = [];

  /** DNS servers (`ip:port`) asked directly instead of the system resolver. */
  @EnvList()
  public EGRESS_DNS_SERVERS: string[] = [];

  /** Bound on resolving plus connecting, per connection. */
  @EnvInt(100, 120_000)
  public EGRESS_CONNECT_TIMEOUT_MS = 5_000;

  /** A tunnel or request idle this long is closed. */
  @EnvInt(1_000, 3_600_000)
  public EGRESS_IDLE_TIMEOUT_MS = 60_000;
}

/** The address policy of EGRESS_ALLOW / EGRESS_DENY; a bad entry is a configuration error naming it. */
export function policyOf(env: Pick<EgressProxyEnv, 'EGRESS_ALLOW' | 'EGRESS_DENY'>): AddressPolicy {
  try {
    return new AddressPolicy({
      allow: env.EGRESS_ALLOW,
      deny: env.EGRESS_DENY,
      names: { allow: 'EGRESS_ALLOW', deny: 'EGRESS_DENY', who: 'the egress proxy' },
    });
  } catch (error) {
    throw new ConfigValidationError([(error as Error).message], 'egress-proxy');
  }
}
