import { request } from 'undici';

/** Traefik's `loadBalancer.healthCheck` (the fields the generator writes). */
export interface HealthCheck {
  readonly path: string;
  readonly interval?: string;
  readonly timeout?: string;
}

/**
 * One Traefik service's load balancer: round robin over its servers (Traefik's default, weighted round robin with
 * equal weights). With a health check, a server whose check fails (non-2xx/3xx or no answer within the timeout)
 * gets no new request until a check passes again; every server starts healthy, as in Traefik. With no healthy
 * server `next()` gives `undefined`, which the edge answers with 503 like Traefik's "no available server".
 */
export class Balancer {
  private cursor = 0;
  private readonly down = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Told when a server leaves or rejoins the rotation (Traefik logs both). */
  public onChange?: (server: string, healthy: boolean, problem?: string) => void;

  public constructor(
    public readonly servers: readonly string[],
    private readonly healthCheck?: HealthCheck,
  ) {
    if (servers.length === 0) throw new Error('a load balancer needs at least one server');
  }

  public next(): string | undefined {
    for (let tried = 0; tried < this.servers.length; tried++) {
      const server = this.servers[this.cursor++ % this.servers.length] as string;
      if (!this.down.has(server)) return server;
    }
    return undefined;
  }

  /** Servers currently taking requests. */
  public healthy(): string[] {
    return this.servers.filter((server) => !this.down.has(server));
  }

  /** Starts the periodic checks (none without a health check). */
  public start(): void {
    if (!this.healthCheck || this.timer) return;
    const interval = durationMs(this.healthCheck.interval ?? '30s');
    this.timer = setInterval(() => void this.checkAll(), interval);
    this.timer.unref();
  }

  public stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of checks (exposed for tests and for the first round at start-up). */
  public async checkAll(): Promise<void> {
    const check = this.healthCheck;
    if (!check) return;
    const timeout = durationMs(check.timeout ?? '5s');
    await Promise.all(
      this.servers.map(async (server) => {
        const problem = await request(new URL(check.path, server), {
          method: 'GET',
          headersTimeout: timeout,
          bodyTimeout: timeout,
        }).then(
          async (answer) => {
            await answer.body.dump();
            return answer.statusCode >= 200 && answer.statusCode < 400 ? undefined : `status ${answer.statusCode}`;
          },
          (error: Error) => error.message,
        );
        if (problem === undefined) {
          if (this.down.delete(server)) this.onChange?.(server, true);
        } else if (!this.down.has(server)) {
          this.down.add(server);
          this.onChange?.(server, false, problem);
        }
      }),
    );
  }
}

/** A Traefik duration (`500ms`, `2s`, `1m`) in milliseconds. */
export function durationMs(value: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(value.trim());
  if (!match) throw new Error(`unsupported duration ${JSON.stringify(value)} (use ms, s or m)`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}
