import { IsString } from 'class-validator';
import { BaseEnv } from './base-env';
import { EnvBoolean, EnvDerived, EnvList, Secret } from './env-decorators';
import { ConfigValidationError, validateEnv } from './validate-env';

class SampleEnv extends BaseEnv {
  @EnvBoolean()
  public FEATURE_ENABLED = true;

  @EnvList()
  public ALLOWED: string[] = [];

  @Secret()
  @IsString()
  public API_SECRET = 'default';
}

describe('validateEnv', () => {
  it('applies defaults and parses numbers, booleans and lists', () => {
    const env = validateEnv(SampleEnv, { PORT: '8081', FEATURE_ENABLED: 'false', ALLOWED: ' a, b ,,c ' });
    expect(env.PORT).toBe(8081);
    expect(env.FEATURE_ENABLED).toBe(false);
    expect(env.ALLOWED).toEqual(['a', 'b', 'c']);
    expect(env.LOG_LEVEL).toBe('info');
    expect(env).toBeInstanceOf(SampleEnv);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
  ])('reads %p as %p', (raw, expected) => {
    expect(validateEnv(SampleEnv, { FEATURE_ENABLED: raw }).FEATURE_ENABLED).toBe(expected);
  });

  it('names every bad key in one error', () => {
    let error: unknown;
    try {
      validateEnv(SampleEnv, { PORT: 'abc', FEATURE_ENABLED: 'maybe', LOG_LEVEL: 'loud' }, 'sample');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    expect(message).toContain('Invalid configuration for sample: 3 problems');
    expect(message).toContain('PORT="abc": must be an integer');
    expect(message).toContain('FEATURE_ENABLED="maybe": must be true or false');
    expect(message).toContain('LOG_LEVEL="loud"');
    expect(message).toContain('.env.example');
  });

  it('rejects ports out of range', () => {
    expect(() => validateEnv(SampleEnv, { PORT: '70000' })).toThrow(/PORT="70000": must be at most 65535/);
  });

  it('never prints a secret value', () => {
    expect(() => validateEnv(SampleEnv, { API_SECRET: 12345 as unknown as string })).toThrow(ConfigValidationError);
    try {
      validateEnv(SampleEnv, { API_SECRET: 12345 as unknown as string });
    } catch (error) {
      expect((error as Error).message).toContain('API_SECRET=(secret value hidden)');
      expect((error as Error).message).not.toContain('12345');
    }
  });
});

describe('EnvDerived', () => {
  class DerivedEnv extends BaseEnv {
    @EnvDerived((raw) => {
      if (raw['GREETING'] === 'bad') throw new ConfigValidationError(['GREETING="bad": must be friendly'], 'x');
      return `${raw['GREETING'] ?? 'hello'}, world`;
    })
    public readonly greeting!: string;
  }

  it('computes the value from the raw environment when validating', () => {
    expect(validateEnv(DerivedEnv, { GREETING: 'hi' }).greeting).toBe('hi, world');
    expect(validateEnv(DerivedEnv, {}).greeting).toBe('hello, world');
  });

  it('reports its problems together with the other keys', () => {
    expect(() => validateEnv(DerivedEnv, { GREETING: 'bad', PORT: 'abc' }, 'sample')).toThrow(
      /2 problems[\s\S]*PORT="abc"[\s\S]*GREETING="bad": must be friendly/,
    );
  });
});
