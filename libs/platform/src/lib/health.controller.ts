import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { FastifyReply } from 'fastify';

/** Anything readiness can ask: a store, a client pool, a child-process supervisor. */
export interface Pingable {
  ping(): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
/** Readiness check name → the injection token of a `Pingable`. */
export type ReadinessChecks = Readonly<Record<string, unknown>>;

const CHECK_TIMEOUT_MS = 2_000;

/**
 * `/healthz`: the process is alive (no dependency is touched, so a Redis outage does not get the
 * container killed). `/readyz`: every dependency answers, otherwise 503 naming the failing ones.
 */
@Controller()
export class HealthController {
  public constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessChecks,
  ) {}

  @Get('healthz')
  public liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  public async readiness(@Res() reply: FastifyReply): Promise<void> {
    const results = await Promise.all(
      Object.entries(this.checks).map(async ([name, token]) => {
        try {
          const target = this.moduleRef.get<Pingable>(token as string, { strict: false });
          await withTimeout(target.ping(), CHECK_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    await reply
      .status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .header('cache-control', 'no-store')
      .send({ status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results) });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
