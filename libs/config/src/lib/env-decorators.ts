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
