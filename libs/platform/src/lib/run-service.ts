import 'reflect-metadata';
import { type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import type { Server } from 'node:http';
import { type BaseEnv, ConfigValidationError, loadEnv } from '@gateway/config';
import { Logger } from 'nestjs-pino';
import { instrumentHttp, serveMetrics } from './metrics';

export interface ServiceDescription<E extends BaseEnv> {
  /** Name used in logs and messages. */
  readonly name: string;
  /** Loads the root module. Lazy, so that a configuration error is reported cleanly, not as a stack. */
  readonly module: () => Promise<Type<unknown>>;
  readonly envClass: Type<E>;
  /** Largest request body in bytes (Fastify's `bodyLimit`); larger bodies get 413. */
  readonly bodyLimit?: number;
  /** Extra checks before Nest starts; throw ConfigValidationError. Values several keys make belong in the env class (`@EnvDerived`). */
  readonly preflight?: (env: E) => void;
  /**
   * Fastify's answer to requests its router rejects before any hook or Nest filter runs (bad
   * percent-encoding, an over-long path parameter): without it Fastify writes its own JSON shape.
   */
  readonly frameworkErrors?: FastifyServerOptions['frameworkErrors'];
  /** Last adjustments before `listen` (content-type parsers, hooks, CORS). */
  readonly configure?: (app: NestFastifyApplication, env: E) => void | Promise<void>;
}

/**
 * Boots a service: Fastify, pino, validated config, graceful SIGTERM/SIGINT. A bad configuration
 * ends the process with exit code 1 and the list of bad keys, without a stack trace.
 */
export async function runService<E extends BaseEnv>(service: ServiceDescription<E>): Promise<INestApplication> {
  try {
    // Validate once, before Nest starts, so a bad key ends the process with one clear message;
    // ConfigModule provides this same instance to the modules.
    const env = loadEnv(service.envClass, service.name);
    service.preflight?.(env);
    const module = await service.module();
    const app = await NestFactory.create<NestFastifyApplication>(
      module,
      new FastifyAdapter({
        bodyLimit: service.bodyLimit ?? 1024 * 1024,
        trustProxy: false,
        ...(service.frameworkErrors ? { frameworkErrors: service.frameworkErrors } : {}),
      }),
      { bufferLogs: true },
    );
    app.useLogger(app.get(Logger));
    app.flushLogs();
    // Before any route is added, so that every route (Nest's and plain Fastify ones) is measured.
    if (env.METRICS_PORT) instrumentHttp(app.getHttpAdapter().getInstance());
    await service.configure?.(app, env);
    const metrics = env.METRICS_PORT ? await serveMetrics(env.METRICS_PORT, env.HOST) : undefined;
    if (metrics) app.get(Logger).log(`metrics on http://${env.HOST}:${env.METRICS_PORT}/metrics`, 'Bootstrap');
    closeOnSignals(app, env.SHUTDOWN_TIMEOUT, app.get(Logger), metrics);
    await app.listen(env.PORT, env.HOST);
    app.get(Logger).log(`${service.name} listening on ${await app.getUrl()}`, 'Bootstrap');
    return app;
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(
        `${service.name} failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
    process.exit(1);
  }
}

/**
 * SIGTERM/SIGINT: stop accepting connections, run every module's shutdown hooks (Redis quits,
 * children are stopped), then exit 0. If that outlives the deadline, exit 1 anyway.
 */
function closeOnSignals(app: INestApplication, seconds: number, logger: Logger, metrics?: Server): void {
  let closing = false;
  const close = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received, shutting down (deadline ${seconds}s)`, 'Bootstrap');
    setTimeout(() => {
      logger.warn('shutdown deadline passed, exiting', 'Bootstrap');
      process.exit(1);
    }, seconds * 1000).unref();
    metrics?.close();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`, 'Bootstrap');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}
