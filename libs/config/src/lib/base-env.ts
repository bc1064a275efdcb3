import { IsIn, IsOptional, IsString } from 'class-validator';
import { EnvInt } from './env-decorators';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;

/** Keys every service reads. Each app's env class extends this. */
export class BaseEnv {
  @IsIn(NODE_ENVS, { message: `must be one of ${NODE_ENVS.join(', ')}` })
  public NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  /** Address to listen on. */
  @IsString()
  public HOST = '127.0.0.1';

  @EnvInt(0, 65535)
  public PORT = 3000;

  /** Port of `GET /metrics` (Prometheus), on HOST, never routed publicly; 0 = no metrics endpoint. */
  @EnvInt(0, 65535)
  public METRICS_PORT = 0;

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  public LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** `pretty` for people, `json` for machines; empty picks json in production and pretty elsewhere. */
  @IsOptional()
  @IsIn([...LOG_FORMATS, ''], { message: `must be one of ${LOG_FORMATS.join(', ')}` })
  public LOG_FORMAT: (typeof LOG_FORMATS)[number] | '' = '';

  /**
   * Where the audit stream goes (one JSON line per MCP tool call, docs/authorization.md "Audit"): a file path
   * (appended to), or empty for standard output beside the other logs (its lines carry `"stream":"audit"`).
   */
  @IsOptional()
  @IsString()
  public AUDIT_LOG_FILE = '';

  /** Seconds the service waits for in-flight work after SIGTERM before it exits anyway. */
  @EnvInt(0, 600)
  public SHUTDOWN_TIMEOUT = 10;
}
