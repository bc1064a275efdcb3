import { BaseEnv, EnvInt, EnvList } from '@gateway/config';

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
