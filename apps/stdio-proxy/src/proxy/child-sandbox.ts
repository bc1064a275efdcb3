import { spawnSync } from 'node:child_process';
import type { Logger } from '@nestjs/common';
import { ConfigValidationError } from '@gateway/config';
import { AddressPolicy, type EgressProxy, HostResolver, startEgressProxy } from '@gateway/egress';
import type { StdioProxyEnv } from '../stdio-proxy.env';
import type { ChildCommand } from './child-command';

/**
 * `unshare` arguments that give a child a fresh network namespace: as root (or with CAP_SYS_ADMIN) a plain one,
 * otherwise inside a user namespace (`--map-root-user`) where the kernel allows unprivileged ones. The namespace
 * has only a loopback interface, down: the child can reach no address at all, not even the host's loopback.
 */
const NETNS_VARIANTS: readonly (readonly string[])[] = [['--net'], ['--user', '--map-root-user', '--net']];

/** The first unshare variant that works here, or undefined (not Linux, no unshare, no namespaces allowed). */
export function probeNetns(): readonly string[] | undefined {
  return NETNS_VARIANTS.find(
    (variant) => spawnSync('unshare', [...variant, '--', 'true'], { stdio: 'ignore', timeout: 5_000 }).status === 0,
  );
}

/** Keys that make a child's HTTP clients use the egress proxy (curl, Python, Go read the lower- or upper-case ones). */
export function proxyEnvironment(url: string): Record<string, string> {
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    // Node.js 24 (and 22.21+): fetch and http(s) use HTTP(S)_PROXY only with this set.
    NODE_USE_ENV_PROXY: '1',
    // No exceptions: loopback and the compose network are exactly what the proxy must judge.
    NO_PROXY: '',
    no_proxy: '',
  };
}

/**
 * Applies the catalog's `egress` to every child (docs/security.md, "Egress"):
 * - `none`: the child runs in a fresh network namespace (`unshare`), so it reaches nothing (not auth, Redis, the
 *   host's loopback, nor the internet). Where no namespace can be made, STDIO_NETNS decides: `required` (the
 *   production default) stops the boot, `auto` warns once and runs the child on the host's network, `off` is for
 *   compose, where the container's own network (shared with Traefik only) isolates it.
 * - `internet`: the child gets HTTP(S)_PROXY pointing at the egress proxy, which applies fetchs' address policy;
 *   EGRESS_PROXY_URL names an external one (compose), otherwise one runs in this process on 127.0.0.1.
 *   A child that ignores the proxy variables is only stopped by compose's network (it reaches the proxy alone).
 */
export class ChildSandbox {
  private constructor(
    private readonly netns: readonly string[] | undefined,
    private readonly proxyUrl: string | undefined,
    private readonly proxy: EgressProxy | undefined,
  ) {}

  public static async start(env: StdioProxyEnv, egress: ChildCommand['egress'], logger: Logger): Promise<ChildSandbox> {
    if (egress === 'internet') {
      if (env.EGRESS_PROXY_URL) return new ChildSandbox(undefined, env.EGRESS_PROXY_URL.replace(/\/$/, ''), undefined);
      let policy: AddressPolicy;
      try {
        policy = new AddressPolicy({
          allow: env.EGRESS_ALLOW,
          deny: env.EGRESS_DENY,
          names: { allow: 'EGRESS_ALLOW', deny: 'EGRESS_DENY', who: 'the egress proxy' },
        });
      } catch (error) {
        throw new ConfigValidationError([(error as Error).message], 'stdio-proxy');
      }
      const proxy = await startEgressProxy(
        {
          policy,
          resolver: new HostResolver(env.EGRESS_DNS_SERVERS, env.EGRESS_CONNECT_TIMEOUT_MS),
          connectTimeoutMs: env.EGRESS_CONNECT_TIMEOUT_MS,
          idleTimeoutMs: 60_000,
          audit: (line) => logger.log({ msg: 'egress', ...line }),
        },
        { host: '127.0.0.1', port: 0 },
      );
      logger.log(`egress: internet, through the egress proxy ${proxy.url}`);
      return new ChildSandbox(undefined, proxy.url, proxy);
    }
    const mode = env.STDIO_NETNS || (env.NODE_ENV === 'production' ? 'required' : 'auto');
    if (mode === 'off') {
      logger.log('egress: none, left to the container network (STDIO_NETNS=off)');
      return new ChildSandbox(undefined, undefined, undefined);
    }
    const netns = probeNetns();
    if (netns) {
      logger.log(`egress: none, each child in a fresh network namespace (unshare ${netns.join(' ')})`);
      return new ChildSandbox(netns, undefined, undefined);
    }
    const why =
      'cannot create a network namespace (unshare --net needs Linux and root, CAP_SYS_ADMIN or unprivileged user namespaces)';
    if (mode === 'required')
      throw new ConfigValidationError(
        [`STDIO_NETNS=required: ${why}; run in a container network that isolates the service and set STDIO_NETNS=off`],
        'stdio-proxy',
      );
    logger.warn(`egress: none is NOT enforced: ${why}; children share this host's network (STDIO_NETNS=auto)`);
    return new ChildSandbox(undefined, undefined, undefined);
  }

  /** The command as it must be spawned: inside `unshare`, or with the proxy variables. */
  public wrap(command: ChildCommand): ChildCommand {
    if (this.netns)
      return { ...command, command: 'unshare', args: [...this.netns, '--', command.command, ...command.args] };
    if (this.proxyUrl) return { ...command, env: { ...command.env, ...proxyEnvironment(this.proxyUrl) } };
    return command;
  }

  public async close(): Promise<void> {
    await this.proxy?.close();
  }
}
