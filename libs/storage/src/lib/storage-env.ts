import { BaseEnv, Secret } from '@gateway/config';
import { IsOptional, Matches } from 'class-validator';

/** Storage keys, for the env class of every app that stores state. */
export class StorageEnv extends BaseEnv {
  /** `redis://[:password@]host:port[/db]`; empty keeps state in memory (one process, lost on restart). */
  @Secret()
  @IsOptional()
  @Matches(/^(rediss?:\/\/.+)?$/, { message: 'must be a redis:// or rediss:// URL, or empty for memory storage' })
  public REDIS_URL = '';

  /** Prefix of every key this deployment writes, so several gateways can share one Redis. */
  @Matches(/^[A-Za-z0-9:_-]*$/, { message: 'may only contain letters, digits, ":", "_" and "-"' })
  public STORAGE_PREFIX = 'mcp-gw:';
}
