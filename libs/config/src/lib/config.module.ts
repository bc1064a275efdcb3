import { existsSync, readFileSync } from 'node:fs';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
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

/**
 * `@nestjs/config` reading `.env` and the process environment, validated by `envClass`
 * (class-validator). The validated instance is injectable by its class.
 */
@Module({})
export class ConfigModule {
  public static forRoot<T extends object>(envClass: new () => T, serviceName: string): DynamicModule {
    let env: T | undefined;
    const nestConfig = NestConfigModule.forRoot({
      cache: true,
      envFilePath: envFilePath() ?? '.env',
      ignoreEnvFile: envFilePath() === undefined,
      validate: (raw) => {
        env = validateEnv(envClass, raw, serviceName);
        return env as Record<string, unknown>;
      },
    });
    return {
      module: ConfigModule,
      global: true,
      imports: [nestConfig],
      providers: [{ provide: envClass, useFactory: () => env ?? validateEnv(envClass, loadRawEnv(), serviceName) }],
      exports: [envClass],
    };
  }
}
