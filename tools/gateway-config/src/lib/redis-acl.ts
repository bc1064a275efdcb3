import { envKeyOf, type ResolvedService } from '@gateway/catalog';

/**
 * Commands `KeyValueStore` sends (libs/storage redis-store.ts) plus what ioredis sends on connect (INFO, its ready
 * check). An MCP service's Redis user gets these and nothing else: no KEYS/SCAN, no CONFIG, no FLUSHALL, no Pub/Sub.
 */
export const STORE_COMMANDS = [
  'get',
  'set',
  'getdel',
  'del',
  'expire',
  'ttl',
  'incr',
  'sadd',
  'srem',
  'smembers',
  'multi',
  'exec',
  'discard',
  'ping',
  'info',
] as const;

/** Key families of each app under the storage prefix (apps/auth/src/store/storage-schema.md). */
const KEYS_OF_APP: Record<string, (service: string) => string[]> = {
  'echo-stateful': (service) => [`mcp:${service}:*`],
  fetchs: (service) => ['fetchs:*', `mcp:${service}:*`],
};

export interface RedisAclUser {
  /** ACL user name; also the user in that container's REDIS_URL. */
  readonly name: string;
  /** The .env key holding its password (compose interpolates it; nothing else sees it). */
  readonly passwordKey: string;
  /** ACL rules after the password: key patterns and commands. */
  readonly rules: readonly string[];
}

/** Apps that keep state in Redis; the others get no Redis user, no REDIS_URL and no Redis network. */
export const usesRedis = (service: Pick<ResolvedService, 'app'>): boolean => service.app in KEYS_OF_APP;

/**
 * One Redis ACL user per container (docs/security.md, "Redis"): auth alone reads and writes every key under the
 * prefix (clients, grants, tokens, signing keys); each MCP service only its own key families, with the store's
 * commands only; `default` answers PING (the healthcheck) and nothing else. `prefix` is the STORAGE_PREFIX.
 */
export function redisAclUsers(services: readonly ResolvedService[], prefix: string): RedisAclUser[] {
  return [
    {
      name: 'auth',
      passwordKey: 'REDIS_PASSWORD',
      rules: [`~${prefix}*`, 'resetchannels', '+@all', '-@dangerous', '+info'],
    },
    ...services.filter(usesRedis).map((service) => ({
      name: service.name,
      passwordKey: `REDIS_PASSWORD_${envKeyOf(service.name)}`,
      rules: [
        ...(KEYS_OF_APP[service.app]?.(service.name) ?? []).map((pattern) => `~${prefix}${pattern}`),
        'resetchannels',
        '-@all',
        ...STORE_COMMANDS.map((command) => `+${command}`),
      ],
    })),
  ];
}

/** redis-server arguments defining the users (`--user NAME on >PASSWORD RULES...`; `password` maps a key to its value). */
export function redisUserArguments(users: readonly RedisAclUser[], password: (key: string) => string): string[] {
  return [
    ...['--user', 'default', 'on', 'nopass', 'resetkeys', 'resetchannels', '-@all', '+ping'],
    ...users.flatMap((user) => ['--user', user.name, 'on', `>${password(user.passwordKey)}`, ...user.rules]),
  ];
}
