import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigValidationError, loadRawEnv, validateEnv } from '@gateway/config';
import { REDIS_CLIENT_OPTIONS, RedisStore } from '@gateway/storage';
import { Redis } from 'ioredis';
import { AdminError, type Output, printOutput } from './admin/output';
import { AuthEnv } from './config/auth.env';
import { ClientStore } from './store/client.store';
import { hashSecret } from './store/hash';
import type { ClientRecord } from './store/records';
import { RevokedTokens } from './store/revoked-tokens';
import { type TokenFamily, TokenFamilies } from './store/token-families';
import { activationOf, type StoredSigningKey } from './tokens/keys/key-material';
import {
  KEY_RING_KEY,
  type KeyRing,
  liveKeys,
  nowSeconds,
  rotateKeyRing,
  signingIndex,
} from './tokens/keys/signing-keys';

const USAGE = `usage: npm run admin -- <command> [--json]
  clients list                      registered clients
  clients show <client_id>          one client's registration
  clients delete <client_id>        delete a client with its grants, tokens and consents
  grants list <user>                a user's grants (token families); <user> is the sub (github:583231) or the login
  grants revoke <user>              revoke every token of that user at once, and forget their consents
  sessions list [<user>]            stored MCP sessions (stateful services), optionally one user's
  sessions end <session_id>         end an MCP session (the client re-initializes)
  keys status                       the signing-key ring: which key signs, which are pending or retiring
  keys rotate [--activate-in S | --now]   staged rotation (the same code as npm run rotate-keys)
  config check                      validate .env and print the effective topology (secrets hidden)
Reads auth's configuration (.env or the environment): REDIS_URL, STORAGE_PREFIX, ...
`;

/** A Redis connection with SCAN, for listing: the KeyValueStore has no listing on purpose (auth never lists). */
class AdminStorage {
  public readonly store: RedisStore;
  public constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.store = new RedisStore(redis, prefix);
  }

  /** Keys (without the prefix) matching a glob of the storage schema (store/storage-schema.md). */
  public async keys(match: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}${match}`, 'COUNT', 500);
      cursor = next;
      found.push(...batch.map((key) => key.slice(this.prefix.length)));
    } while (cursor !== '0');
    return found.sort();
  }
}

const iso = (seconds: number | undefined) => (seconds ? new Date(seconds * 1000).toISOString() : '');

async function run(command: string[], flags: { json: boolean; activateIn?: string; now?: boolean }): Promise<Output> {
  const [group, action, argument] = command;
  const env = validateEnv(AuthEnv, loadRawEnv(), 'auth admin');
  if (group === 'config' && action === 'check') return configCheck(env);
  if (!env.REDIS_URL)
    throw new AdminError(
      "REDIS_URL is empty: memory storage lives inside the running auth process, so there is nothing to administer from outside. Set REDIS_URL to the gateway's Redis.",
    );
  const redis = new Redis(env.REDIS_URL, { ...REDIS_CLIENT_OPTIONS, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    await redis.connect().catch((error: unknown) => {
      throw new AdminError(
        `cannot reach Redis at ${env.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}: ${(error as Error).message}`,
      );
    });
    const storage = new AdminStorage(redis, env.STORAGE_PREFIX);
    const clients = new ClientStore(storage.store);
    const families = new TokenFamilies(storage.store, new RevokedTokens(storage.store), clients, env);
    const need = (what: string) => {
      if (!argument) throw new AdminError(`${group} ${action} needs ${what}`, true);
      return argument;
    };
    switch (`${group} ${action}`) {
      case 'clients list': {
        const records = await Promise.all(
          (await storage.keys('client:*')).map((key) => clients.get(key.slice('client:'.length))),
        );
        return {
          rows: records.filter((record): record is ClientRecord => record !== undefined).map(clientRow),
          columns: ['client_id', 'client_name', 'auth_method', 'redirect_uris', 'issued_at', 'expires_at'],
        };
      }
      case 'clients show': {
        const record = await clients.get(need('a client_id'));
        if (!record) throw new AdminError(`no client ${argument} (unknown, deleted or expired)`);
        const { clientSecretHash: _secret, registrationTokenHash: _token, ...shown } = record;
        return { record: { ...shown, issuedAt: iso(record.issuedAt), expiresAt: iso(record.expiresAt) || 'never' } };
      }
      case 'clients delete': {
        if (!(await clients.get(need('a client_id'))))
          throw new AdminError(`no client ${argument} (unknown, deleted or expired)`);
        await clients.delete(argument ?? '');
        return {
          message: `deleted client ${argument} with its grants, tokens and consents`,
          record: { deleted: argument },
        };
      }
      case 'grants list':
      case 'grants revoke': {
        const user = need('a user (sub such as github:583231, or login)');
        const grants = await grantsOf(storage, families, user);
        if (action === 'list')
          return {
            rows: grants.map(({ id, family }) => ({
              family: id,
              user: family.user.sub,
              login: family.user.login,
              client_id: family.clientId,
              resource: family.resource,
              scope: family.scope,
              created_at: iso(family.createdAt),
            })),
            columns: ['family', 'user', 'login', 'client_id', 'resource', 'scope', 'created_at'],
          };
        const subs = new Set(grants.map(({ family }) => family.user.sub));
        if (user.includes(':')) subs.add(user);
        await Promise.all(grants.map(({ id }) => families.revoke(id)));
        let consents = 0;
        for (const sub of subs) {
          const keys = await storage.keys(`consent:${hashSecret(sub)}:*`);
          if (keys.length) consents += await storage.store.delete(...keys);
        }
        return {
          message: `revoked ${grants.length} grant(s) of ${user}: their access and refresh tokens stop working now; ${consents} consent(s) forgotten`,
          record: { user, revokedGrants: grants.map(({ id }) => id), forgottenConsents: consents },
        };
      }
      case 'sessions list': {
        const sessions = await Promise.all(
          (await storage.keys('mcp:*:session:*')).map(async (key) => {
            const [, service, , id] = key.split(':');
            const record = await storage.store.getJson<{
              userId?: string | null;
              protocolVersion?: string;
              clientInfo?: { name?: string };
            }>(key);
            const seen = await storage.store.get(`mcp:${service}:session-seen:${id}`);
            return record
              ? {
                  session_id: id,
                  service,
                  user: record.userId ?? '',
                  client: record.clientInfo?.name ?? '',
                  protocol: record.protocolVersion ?? '',
                  last_seen: seen ?? '',
                }
              : undefined;
          }),
        );
        return {
          rows: sessions.filter((row) => row !== undefined && (!argument || row.user === argument)) as Record<
            string,
            unknown
          >[],
          columns: ['session_id', 'service', 'user', 'client', 'protocol', 'last_seen'],
        };
      }
      case 'sessions end': {
        const id = need('a session_id');
        const keys = await storage.keys(`mcp:*:session:${id}`);
        if (!keys.length) throw new AdminError(`no session ${id} (unknown, ended or expired)`);
        for (const key of keys) {
          const [, service] = key.split(':');
          await storage.store.delete(key, `mcp:${service}:session-seen:${id}`);
        }
        return {
          message: `ended session ${id}: its next request gets 404 and the client re-initializes`,
          record: { ended: id },
        };
      }
      case 'keys status':
        return keysStatus(storage, env);
      case 'keys rotate': {
        if (env.JWT_PRIVATE_KEY)
          throw new AdminError(
            'JWT_PRIVATE_KEY is set: the key comes from configuration, so rotate by changing it (nothing done)',
          );
        let activateIn: number | undefined;
        if (flags.now) activateIn = 0;
        else if (flags.activateIn !== undefined) {
          activateIn = Number(flags.activateIn);
          if (!Number.isInteger(activateIn) || activateIn < env.KEY_RING_RELOAD_INTERVAL)
            throw new AdminError(
              `--activate-in must be whole seconds, at least KEY_RING_RELOAD_INTERVAL (${env.KEY_RING_RELOAD_INTERVAL}); --now for an emergency`,
              true,
            );
        }
        const rotation = await rotateKeyRing(
          storage.store,
          env.JWT_ALGORITHM,
          { accessTokenLifetime: env.ACCESS_TOKEN_LIFETIME, reloadInterval: env.KEY_RING_RELOAD_INTERVAL },
          { ...(activateIn !== undefined ? { activateIn } : {}) },
        );
        return {
          message: `added ${env.JWT_ALGORITHM} key ${rotation.added}: published now, signs from ${iso(rotation.activatesAt)}`,
          record: {
            added: rotation.added,
            algorithm: env.JWT_ALGORITHM,
            signsFrom: iso(rotation.activatesAt),
            stillPublished: rotation.kept,
          },
        };
      }
      default:
        throw new AdminError(`unknown command: ${command.join(' ') || '(none)'}`, true);
    }
  } finally {
    redis.disconnect();
  }
}

function clientRow(record: ClientRecord): Record<string, unknown> {
  return {
    client_id: record.clientId,
    client_name: record.metadata.client_name ?? '',
    auth_method: record.metadata.token_endpoint_auth_method ?? '',
    redirect_uris: (record.metadata.redirect_uris ?? []).join(' '),
    issued_at: iso(record.issuedAt),
    expires_at: iso(record.expiresAt) || 'never',
  };
}

/** A user's token families: by `sub` when it has a provider prefix, else by login (case-insensitive). */
async function grantsOf(
  storage: AdminStorage,
  families: TokenFamilies,
  user: string,
): Promise<Array<{ id: string; family: TokenFamily }>> {
  const found: Array<{ id: string; family: TokenFamily }> = [];
  for (const key of await storage.keys('family:*')) {
    const id = key.slice('family:'.length);
    const family = await families.get(id);
    if (!family) continue;
    if (family.user.sub === user || family.user.login.toLowerCase() === user.toLowerCase()) found.push({ id, family });
  }
  return found;
}

async function keysStatus(storage: AdminStorage, env: AuthEnv): Promise<Output> {
  if (env.JWT_PRIVATE_KEY)
    return { message: 'one configured key (JWT_PRIVATE_KEY): no ring in storage', rows: [], columns: [] };
  const ring = await storage.store.getJson<KeyRing>(KEY_RING_KEY);
  if (!ring?.keys.length) return { message: 'no key ring yet: auth creates it on first start', rows: [], columns: [] };
  const now = nowSeconds();
  const signing = signingIndex(ring.keys, now);
  const live = new Set(
    liveKeys(
      ring.keys,
      { accessTokenLifetime: env.ACCESS_TOKEN_LIFETIME, reloadInterval: env.KEY_RING_RELOAD_INTERVAL },
      now,
    ).map((key) => key.kid),
  );
  return {
    rows: ring.keys.map((key: StoredSigningKey, index) => ({
      kid: key.kid,
      alg: key.alg,
      state: index === signing ? 'signing' : index < signing ? 'pending' : live.has(key.kid) ? 'retiring' : 'expired',
      created_at: iso(key.createdAt),
      signs_from: iso(activationOf(key)),
    })),
    columns: ['kid', 'alg', 'state', 'created_at', 'signs_from'],
  };
}

/** Validates like auth at boot, then shows what auth would serve; secret keys are never printed. */
function configCheck(env: AuthEnv): Output {
  const topology = env.topology;
  return {
    message: 'configuration valid',
    showRecord: true,
    record: {
      mode: topology.mode,
      issuer: topology.issuer,
      storage: env.REDIS_URL
        ? `redis (${env.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}), prefix ${env.STORAGE_PREFIX}`
        : 'memory',
      login: env.LOGIN_PROVIDER || (env.GITHUB_CLIENT_ID ? 'github' : env.OIDC_ISSUER ? 'oidc' : 'dev'),
      signingKey: env.JWT_PRIVATE_KEY
        ? 'configured (JWT_PRIVATE_KEY, hidden)'
        : `ring in storage (${env.JWT_ALGORITHM})`,
      services: topology.enabled.map((service) => ({
        name: service.name,
        mcpUrl: service.mcpUrl,
        upstream: service.upstreamUrl,
      })),
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'activate-in': { type: 'string' },
      now: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const output = await run(positionals, {
    json: values.json ?? false,
    ...(values['activate-in'] !== undefined ? { activateIn: values['activate-in'] } : {}),
    ...(values.now ? { now: true } : {}),
  });
  printOutput(output, values.json ?? false);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigValidationError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof AdminError) process.stderr.write(`admin: ${error.message}\n${error.usage ? USAGE : ''}`);
    else process.stderr.write(`admin failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof AdminError && error.usage ? 2 : 1);
  },
);
