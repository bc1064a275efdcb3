import { type DynamicModule, Module, RequestMethod, type Type } from '@nestjs/common';
import type { BaseEnv } from '@gateway/config';
import { LoggerModule } from 'nestjs-pino';
import { redactQuery, redactUrl } from './redact-url';
import { HealthController, READINESS_CHECKS, type ReadinessChecks } from './health.controller';

/** Header values that must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

export interface PlatformOptions {
  /** The app's validated env class (provided by `ConfigModule.forRoot`). */
  readonly envClass: Type<BaseEnv>;
  /** What `/readyz` pings, by name. */
  readonly readiness?: ReadinessChecks;
  /**
   * Paths whose requests get no per-request log line from pino-http (besides /healthz and /readyz): hot paths that
   * log what matters themselves, such as auth's /verify (its refusals are audited) and `/mcp` (`MCP_QUIET_PATHS`
   * of @gateway/mcp-session: it writes a lighter access line of its own). Nest route syntax (path-to-regexp).
   */
  readonly quietPaths?: readonly string[];
}

/** What every service has: pino logging (JSON, or pretty for people), `/healthz` and `/readyz`. */
@Module({})
export class PlatformModule {
  public static forRoot({ envClass, readiness = {}, quietPaths = [] }: PlatformOptions): DynamicModule {
    // Quiet paths skip the pino-http middleware entirely (no per-request logger, no access line).
    const quiet = ['/healthz', '/readyz', ...quietPaths].map((path) => ({
      method: RequestMethod.ALL,
      path: path.replace(/^\//, ''),
    }));
    return {
      module: PlatformModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [envClass],
          useFactory: (env: BaseEnv) => ({
            exclude: quiet,
            pinoHttp: {
              level: env.LOG_LEVEL,
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              // Authorization codes, state, verifiers and tokens in query strings never reach the access log.
              serializers: { req: redactRequest, res: redactResponse },
              ...(logFormat(env) === 'pretty'
                ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'HH:MM:ss.l' } } }
                : {}),
            },
          }),
        }),
      ],
      controllers: [HealthController],
      providers: [{ provide: READINESS_CHECKS, useValue: readiness }],
    };
  }
}

/** pino-http request serializer (wraps the standard one): URL and query with sensitive parameters redacted. */
export function redactRequest(req: { url?: string; query?: unknown }): unknown {
  if (typeof req.url === 'string') req.url = redactUrl(req.url);
  if (req.query !== undefined) req.query = redactQuery(req.query);
  return req;
}

/** pino-http response serializer: the `Location` of a redirect (codes, state, tokens) redacted the same way. */
export function redactResponse(res: { headers?: Record<string, unknown> }): unknown {
  const location = res.headers?.['location'];
  if (res.headers && typeof location === 'string') res.headers = { ...res.headers, location: redactUrl(location) };
  return res;
}

export function logFormat(env: BaseEnv): 'json' | 'pretty' {
  if (env.LOG_FORMAT) return env.LOG_FORMAT;
  return env.NODE_ENV === 'development' ? 'pretty' : 'json';
}
