import 'reflect-metadata';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';

const SECRET_KEYS = Symbol('gateway:secret-env-keys');

/** Marks an env key whose value must never appear in an error message or a log line. */
export function Secret(): PropertyDecorator {
  return (target, key) => {
    const keys: Set<string> = Reflect.getMetadata(SECRET_KEYS, target) ?? new Set<string>();
    Reflect.defineMetadata(SECRET_KEYS, new Set([...keys, String(key)]), target);
  };
}

export function secretKeysOf(envClass: object): ReadonlySet<string> {
  return Reflect.getMetadata(SECRET_KEYS, envClass) ?? new Set<string>();
}

const DERIVED_KEYS = Symbol('gateway:derived-env-keys');

/** Computes a derived value from the raw environment; throws `ConfigValidationError` naming the bad keys. */
export type EnvDeriver = (raw: Readonly<Record<string, string | undefined>>) => unknown;

/**
 * A value computed from several raw keys when the environment is validated (e.g. the service catalog from
 * ROUTING_MODE, PUBLIC_URL and MCP_<NAME>_*): its problems are reported with the other keys', and every
 * consumer reads the one validated instance instead of the raw environment.
 */
export function EnvDerived(derive: EnvDeriver): PropertyDecorator {
  return (target, key) => {
    const keys: Map<string, EnvDeriver> = Reflect.getMetadata(DERIVED_KEYS, target) ?? new Map();
    Reflect.defineMetadata(DERIVED_KEYS, new Map([...keys, [String(key), derive]]), target);
  };
}

export function derivedKeysOf(envClass: object): ReadonlyMap<string, EnvDeriver> {
  return Reflect.getMetadata(DERIVED_KEYS, envClass) ?? new Map<string, EnvDeriver>();
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

/** A boolean env key: true/1/yes/on and false/0/no/off (case-insensitive). Anything else fails validation. */
export function EnvBoolean(): PropertyDecorator {
  const toBoolean = Transform(({ value }) => {
    if (typeof value === 'boolean') return value;
    const text = String(value).trim().toLowerCase();
    if (TRUE.has(text)) return true;
    if (FALSE.has(text)) return false;
    return value;
  });
  return (target, key) => {
    toBoolean(target, key);
    IsOptional()(target, key);
    IsBoolean({ message: 'must be true or false' })(target, key);
  };
}

/** An integer env key within [min, max]. */
export function EnvInt(min: number, max: number): PropertyDecorator {
  const toNumber = Transform(({ value }) =>
    typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value,
  );
  return (target, key) => {
    toNumber(target, key);
    IsOptional()(target, key);
    IsInt({ message: 'must be an integer' })(target, key);
    Min(min, { message: `must be at least ${min}` })(target, key);
    Max(max, { message: `must be at most ${max}` })(target, key);
  };
}

/** A comma-separated list env key; entries are trimmed and empty entries dropped. */
export function EnvList(): PropertyDecorator {
  return Transform(({ value }) =>
    Array.isArray(value)
      ? value
      : String(value ?? '')
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
  );
}
