import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { derivedKeysOf, secretKeysOf } from './env-decorators';

/** Thrown when the environment does not describe a bootable service. Its message names every bad key. */
export class ConfigValidationError extends Error {
  public constructor(
    public readonly problems: readonly string[],
    serviceName: string,
  ) {
    super(
      [
        `Invalid configuration for ${serviceName}: ${problems.length} problem${problems.length === 1 ? '' : 's'}.`,
        ...problems.map((problem) => `  - ${problem}`),
        'Fix these keys in .env or the environment (see .env.example for every key and its default).',
      ].join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}

/**
 * Turns raw environment strings into a validated instance of `envClass`.
 * Defaults are the class's property initialisers; unknown keys are ignored (the
 * environment holds much more than our keys). Secret values are never echoed.
 */
export function validateEnv<T extends object>(
  envClass: new () => T,
  raw: Record<string, unknown>,
  serviceName = envClass.name,
): T {
  const defaults = new envClass();
  const present = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => key in defaults || value !== undefined),
  );
  const env = plainToInstance(envClass, { ...defaults, ...present }, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: false, stopAtFirstError: true });
  const secrets = secretKeysOf(envClass.prototype);
  const problems = errors.map((error) => describe(error, raw, secrets));
  // Derived keys (`@EnvDerived`, e.g. the service catalog) read the same raw environment, once, here.
  for (const [key, derive] of derivedKeysOf(envClass.prototype)) {
    try {
      (env as Record<string, unknown>)[key] = derive(raw as Readonly<Record<string, string | undefined>>);
    } catch (error) {
      if (!(error instanceof ConfigValidationError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length === 0) return env;
  throw new ConfigValidationError(problems, serviceName);
}

function describe(error: ValidationError, raw: Record<string, unknown>, secrets: ReadonlySet<string>): string {
  const key = error.property;
  const reasons = Object.values(error.constraints ?? {}).join('; ');
  const given = raw[key];
  if (given === undefined || given === '') return `${key} is missing: ${reasons}`;
  const shown = secrets.has(key) ? '(secret value hidden)' : JSON.stringify(String(given));
  return `${key}=${shown}: ${reasons}`;
}
