import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@nestjs/common';
import { ConfigValidationError } from '@gateway/config';
import { AddressPolicy, type EgressProxy, HostResolver, probeNetns, startEgressProxy } from '@gateway/egress';
import type { StdioProxyEnv } from '../stdio-proxy.env';
import type { ChildCommand } from './child-command';
import { RELAY_PORT, splice } from './netns-relay';

/** A Unix socket (in a private directory) that forwards every connection to the egress proxy's TCP address. */
interface ProxyBridge {
  readonly socketPath: string;
  close(): Promise<void>;
}

async function startProxyBridge(proxyUrl: string): Promise<ProxyBridge> {
  const { hostname, port } = new URL(proxyUrl);
  const dir = mkdtempSync(join(tmpdir(), 'stdio-egress-')); // mode 0700: no other local user connects
  const socketPath = join(dir, 'proxy.sock');
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket.on('close', () => open.delete(socket)));
    splice(socket, connect(Number(port) || 80, hostname.replace(/^\[|\]$/g, '')));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  return {
    socketPath,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy(); // a tunnel a stray grandchild still holds
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
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

/** An egress proxy in this process on 127.0.0.1 (no EGRESS_PROXY_URL). */
async function startOwnProxy(env: StdioProxyEnv, logger: Logger): Promise<EgressProxy> {
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
  return proxy;
}

/**
 * Applies the catalog's `egress` to every child (docs/security.md, "Egress"):
 * - `none`: the child runs in a fresh network namespace (`unshare`), so it reaches nothing (not auth, Redis, the
 *   host's loopback, nor the internet).
 * - `internet`: the child gets HTTP(S)_PROXY pointing at the egress proxy, which applies fetchs' address policy
 *   (EGRESS_PROXY_URL names an external one (compose), otherwise one runs in this process on 127.0.0.1), and it runs
 *   in a fresh network namespace too, whose only way out is the relay (netns-relay.ts) to that proxy: a server that
 *   ignores the proxy variables (raw sockets, a browser, code it runs) reaches nothing else. `${EGRESS_PROXY_URL}` in
 *   the catalog's arguments becomes the proxy's address as the child sees it (Chromium's `--proxy-server`).
 * Where no namespace can be made, STDIO_NETNS decides: `required` (the production default) stops the boot, `auto`
 * warns once and runs the child on the host's network, `off` is for compose, where the container's own network (shared
 * with Traefik only, or with the egress proxy only) isolates it.
 */
export class ChildSandbox {
  private constructor(
    /** unshare arguments, or undefined: the child runs on this host's network. */
    private readonly netns: readonly string[] | undefined,
    /** The egress proxy as the child reaches it (`internet` only). */
    private readonly childProxyUrl: string | undefined,
    private readonly closers: readonly (() => Promise<void>)[],
  ) {}

  public static async start(env: StdioProxyEnv, egress: ChildCommand['egress'], logger: Logger): Promise<ChildSandbox> {
    const mode = env.STDIO_NETNS || (env.NODE_ENV === 'production' ? 'required' : 'auto');
    const closers: (() => Promise<void>)[] = [];
    let proxyUrl: string | undefined;
    if (egress === 'internet') {
      if (env.EGRESS_PROXY_URL) proxyUrl = env.EGRESS_PROXY_URL.replace(/\/$/, '');
      else {
        const proxy = await startOwnProxy(env, logger);
        closers.push(() => proxy.close());
        proxyUrl = proxy.url;
      }
    }
    if (mode === 'off') {
      logger.log(`egress: ${egress}, left to the container network (STDIO_NETNS=off)`);
      return new ChildSandbox(undefined, proxyUrl, closers);
    }
    // internet: the relay is PID 1 of its own PID namespace and dies with unshare (`--kill-child`), so a relay that
    // is killed takes the server (and its browser) with it instead of leaving them running with the proxy's pipes.
    const netns =
      egress === 'internet'
        ? probeNetns(['ip', 'link', 'set', 'lo', 'up'], ['--pid', '--fork', '--kill-child'])
        : probeNetns();
    if (netns && proxyUrl) {
      const bridge = await startProxyBridge(proxyUrl);
      closers.push(() => bridge.close());
      logger.log(
        `egress: internet, each child in a fresh network namespace (unshare ${netns.join(' ')}) whose only way out is the egress proxy ${proxyUrl}`,
      );
      const relay = [process.execPath, join(__dirname, 'netns-relay.js'), bridge.socketPath, '--'];
      return new ChildSandbox([...netns, '--', ...relay], `http://127.0.0.1:${RELAY_PORT}`, closers);
    }
    if (netns) {
      logger.log(`egress: none, each child in a fresh network namespace (unshare ${netns.join(' ')})`);
      return new ChildSandbox([...netns, '--'], undefined, closers);
    }
    const why =
      egress === 'internet'
        ? 'cannot create a network namespace with a loopback interface (unshare --net needs Linux and root, CAP_SYS_ADMIN or unprivileged user namespaces; ip from iproute2)'
        : 'cannot create a network namespace (unshare --net needs Linux and root, CAP_SYS_ADMIN or unprivileged user namespaces)';
    if (mode === 'required') {
      await Promise.all(closers.map((close) => close()));
      throw new ConfigValidationError(
        [`STDIO_NETNS=required: ${why}; run in a container network that isolates the service and set STDIO_NETNS=off`],
        'stdio-proxy',
      );
    }
    logger.warn(
      egress === 'internet'
        ? `egress: internet is enforced only for clients that use HTTP(S)_PROXY: ${why} (STDIO_NETNS=auto)`
        : `egress: none is NOT enforced: ${why}; children share this host's network (STDIO_NETNS=auto)`,
    );
    return new ChildSandbox(undefined, proxyUrl, closers);
  }

  /** The command as it must be spawned: inside `unshare` (and the relay), with the proxy variables. */
  public wrap(command: ChildCommand): ChildCommand {
    const proxyUrl = this.childProxyUrl ?? '';
    const args = command.args.map((arg) => arg.split('${EGRESS_PROXY_URL}').join(proxyUrl));
    const env = this.childProxyUrl ? { ...command.env, ...proxyEnvironment(this.childProxyUrl) } : command.env;
    if (this.netns) return { ...command, command: 'unshare', args: [...this.netns, command.command, ...args], env };
    return { ...command, args, env };
  }

  public async close(): Promise<void> {
    await Promise.all(this.closers.map((close) => close()));
  }
}
