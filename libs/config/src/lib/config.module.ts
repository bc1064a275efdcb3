import { existsSync, readFileSync } from 'node:fs';
import { type DynamicModule, Module } from '@nestjs/common';
import { parse } from 'dotenv';
import { validateEnv } from './validate-env';

/** The env file: `ENV_FILE`, else `.env` in the working directory; tests (NODE_ENV=test) ignore `.env`. */
function envFilePath(): string | undefined {
  if (process.env['ENV_FILE']) return process.env['ENV_FILE'];
  return process.env['NODE_ENV'] === 'test' ? undefined : '.env';
}

/** What the service sees: the env file overlaid by the process environment (which wins). */
export function loadRawEnv(): Record<string, string | undefined> {
  const file = envFilePath();
  const fromFile = file && existsSync(file) ? parse(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}

/** The instance validated at boot, by env class (filled by `loadEnv`, read by `ConfigModule`). */
const booted = new Map<abstract new () => object, object>();

/**
 * Reads and validates the environment of a service, once, at boot (`runService` calls it before Nest starts):
 * `ConfigModule` then provides this same instance instead of validating again.
 */
export function loadEnv<T extends object>(envClass: new () => T, serviceName: string): T {
  const env = validateEnv(envClass, loadRawEnv(), serviceName);
  booted.set(envClass, env);
  return env;
}

/**
 * Provides the validated instance of `envClass`, injectable by its class, to every module. It is the one
 * `loadEnv` validated at boot; without a boot (a test building the module alone) it validates here.
 */
@Module({})
export class ConfigModule {
  public static forRoot<T extends object>(envClass: new () => T, serviceName: string): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      providers: [
        {
          provide: envClass,
          useFactory: (): T =>
            (booted.get(envClass) as T | undefined) ?? validateEnv(envClass, loadRawEnv(), serviceName),
        },
      ],
      exports: [envClass],
    };
  }
}
