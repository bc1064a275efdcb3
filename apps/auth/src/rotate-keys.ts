import 'reflect-metadata';
import { ConfigValidationError, loadRawEnv, validateEnv } from '@gateway/config';
import { REDIS_CLIENT_OPTIONS, RedisStore } from '@gateway/storage';
import { Redis } from 'ioredis';
import { AuthEnv } from './config/auth.env';
import { rotateKeyRing } from './tokens/keys/signing-keys';

/**
 * Signing-key rotation: `node dist/apps/auth/src/rotate-keys.js` with auth's configuration (.env or the
 * environment). Adds a new key of JWT_ALGORITHM in front of the ring in storage; running replicas pick it
 * up within a minute and keep the previous keys published until their tokens have expired.
 */
async function main(): Promise<number> {
  const env = validateEnv(AuthEnv, loadRawEnv(), 'auth rotate-keys');
  if (env.JWT_PRIVATE_KEY) {
    process.stderr.write(
      'JWT_PRIVATE_KEY is set: the key comes from configuration, so rotate by changing it (nothing done).\n',
    );
    return 2;
  }
  if (!env.REDIS_URL) {
    process.stderr.write(
      'REDIS_URL is empty: with memory storage every start generates a fresh key, there is no ring to rotate.\n',
    );
    return 2;
  }
  const redis = new Redis(env.REDIS_URL, { ...REDIS_CLIENT_OPTIONS, lazyConnect: true });
  try {
    await redis.connect();
    const { added, kept } = await rotateKeyRing(
      new RedisStore(redis, env.STORAGE_PREFIX),
      env.JWT_ALGORITHM,
      env.ACCESS_TOKEN_LIFETIME,
    );
    process.stdout.write(`${JSON.stringify({ added, algorithm: env.JWT_ALGORITHM, stillPublished: kept })}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      error instanceof ConfigValidationError ? `${error.message}\n` : `rotate-keys failed: ${String(error)}\n`,
    );
    process.exit(1);
  },
);
