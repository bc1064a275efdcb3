import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigValidationError, loadRawEnv, validateEnv } from '@gateway/config';
import { REDIS_CLIENT_OPTIONS, RedisStore } from '@gateway/storage';
import { Redis } from 'ioredis';
import { AuthEnv } from './config/auth.env';
import { rotateKeyRing } from './tokens/keys/signing-keys';

const USAGE = `usage: npm run rotate-keys [-- --activate-in SECONDS | --now]
  Adds a signing key of JWT_ALGORITHM to the ring in storage (auth's .env or environment). Every replica
  publishes and accepts it at its next ring read; it signs from two KEY_RING_RELOAD_INTERVALs later.
  --activate-in SECONDS  sign from SECONDS from now instead (at least KEY_RING_RELOAD_INTERVAL)
  --now                  sign at once (emergency: replicas that have not re-read the ring yet refuse the
                         new tokens for up to 5 s, until their unknown-kid reload)
`;

/**
 * Staged signing-key rotation (docs/auth.md "Signing keys"): adds a new key of JWT_ALGORITHM in front of
 * the ring in storage, published at once and signing later; the previous keys stay published until their
 * tokens have expired.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'activate-in': { type: 'string' }, now: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const env = validateEnv(AuthEnv, loadRawEnv(), 'auth rotate-keys');
  let activateIn: number | undefined;
  if (values.now) activateIn = 0;
  else if (values['activate-in'] !== undefined) {
    activateIn = Number(values['activate-in']);
    if (!Number.isInteger(activateIn) || activateIn < env.KEY_RING_RELOAD_INTERVAL) {
      process.stderr.write(
        `--activate-in must be a whole number of seconds, at least KEY_RING_RELOAD_INTERVAL (${env.KEY_RING_RELOAD_INTERVAL}), ` +
          'so that every replica accepts the key before it signs; use --now for an emergency rotation.\n',
      );
      return 2;
    }
  }
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
    const { added, activatesAt, kept } = await rotateKeyRing(
      new RedisStore(redis, env.STORAGE_PREFIX),
      env.JWT_ALGORITHM,
      { accessTokenLifetime: env.ACCESS_TOKEN_LIFETIME, reloadInterval: env.KEY_RING_RELOAD_INTERVAL },
      { activateIn },
    );
    const signsFrom = new Date(activatesAt * 1000).toISOString();
    process.stdout.write(
      `${JSON.stringify({ added, algorithm: env.JWT_ALGORITHM, signsFrom, stillPublished: kept })}\n`,
    );
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
