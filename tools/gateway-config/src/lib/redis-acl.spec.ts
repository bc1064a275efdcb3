// Finding: one compromised MCP container must not own auth's keys. A real redis-server with the generated users.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTopology } from '@gateway/catalog';
import { RedisStore } from '@gateway/storage';
import { freePort } from '@gateway/testing';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { generatedArtifacts } from './artifacts';
import { redisAclUsers, redisUserArguments } from './redis-acl';

const PREFIX = 'mcp-gw:';
const passwordOf = (key: string) => `test-${key.toLowerCase()}`;

describe('Redis ACL users per container, against a real redis-server', () => {
  let server: ChildProcess;
  let dir: string;
  let port: number;
  const clients: Redis[] = [];
  const as = async (user: string, password: string | undefined): Promise<Redis> => {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      ...(password === undefined ? {} : { username: user, password }),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    clients.push(client);
    await client.connect();
    return client;
  };
  const users = redisAclUsers(resolveTopology({}).enabled, PREFIX);

  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'acl-redis-'));
    server = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        ...redisUserArguments(users, passwordOf),
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
      const up = await probe.connect().then(
        () => probe.ping(),
        () => undefined,
      );
      probe.disconnect();
      if (up === 'PONG') break;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const auth = await as('auth', passwordOf('REDIS_PASSWORD'));
    await auth.set(`${PREFIX}signing-keys`, '[{"d":"private"}]');
    await auth.set(`${PREFIX}client:abc`, '{"client_secret_hash":"x"}');
    await auth.set(`${PREFIX}family:f1`, '{"sub":"alice"}');
  });

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('names one user per Redis-using service, with its own password key', () => {
    expect(users.map((user) => [user.name, user.passwordKey])).toEqual([
      ['auth', 'REDIS_PASSWORD'],
      ['echo-stateful', 'REDIS_PASSWORD_ECHO_STATEFUL'],
      ['fetchs', 'REDIS_PASSWORD_FETCHS'],
    ]);
  });

  it.each(['echo-stateful', 'fetchs'])("%s cannot read or change auth's keys, nor list or flush", async (name) => {
    const client = await as(name, passwordOf(`REDIS_PASSWORD_${name.toUpperCase().replace('-', '_')}`));
    for (const key of ['signing-keys', 'client:abc', 'family:f1', 'mcp:other-service:session:1']) {
      await expect(client.get(`${PREFIX}${key}`)).rejects.toThrow(/NOPERM/);
      await expect(client.set(`${PREFIX}${key}`, 'x')).rejects.toThrow(/NOPERM/);
      await expect(client.del(`${PREFIX}${key}`)).rejects.toThrow(/NOPERM/);
    }
    await expect(client.keys('*')).rejects.toThrow(/NOPERM/);
    await expect(client.scan(0)).rejects.toThrow(/NOPERM/);
    await expect(client.flushall()).rejects.toThrow(/NOPERM/);
    await expect(client.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/);
    await expect(client.eval('return redis.call("get", KEYS[1])', 1, `${PREFIX}signing-keys`)).rejects.toThrow(
      /NOPERM/,
    );
    await expect(client.acl('LIST')).rejects.toThrow(/NOPERM/);
  });

  it('echo-stateful works on its own sessions through the real store', async () => {
    const store = new RedisStore(await as('echo-stateful', passwordOf('REDIS_PASSWORD_ECHO_STATEFUL')), PREFIX);
    await store.set('mcp:echo-stateful:session:s1', '{"user":"alice"}', { ttlSeconds: 60 });
    expect(await store.get('mcp:echo-stateful:session:s1')).toBe('{"user":"alice"}');
    await store.setAdd('mcp:echo-stateful:user-sessions:alice', ['s1'], 60);
    expect(await store.setMembers('mcp:echo-stateful:user-sessions:alice')).toEqual(['s1']);
    await expect(store.get('signing-keys')).rejects.toThrow(/NOPERM/);
  });

  it('fetchs counts its rate limit through the real store', async () => {
    const store = new RedisStore(await as('fetchs', passwordOf('REDIS_PASSWORD_FETCHS')), PREFIX);
    expect(await store.increment('fetchs:rate:alice', 60)).toBe(1);
    expect(await store.increment('fetchs:rate:alice', 60)).toBe(2);
  });

  it('auth reads and writes every key under the prefix, but cannot flush or reconfigure', async () => {
    const auth = await as('auth', passwordOf('REDIS_PASSWORD'));
    expect(await auth.get(`${PREFIX}signing-keys`)).toContain('private');
    await auth.set(`${PREFIX}mcp:echo-stateful:session:s2`, 'x');
    await expect(auth.flushall()).rejects.toThrow(/NOPERM/);
    await expect(auth.config('SET', 'requirepass', 'x')).rejects.toThrow(/NOPERM/);
  });

  it('without a password: PING only (the healthcheck)', async () => {
    const anonymous = await as('default', undefined);
    expect(await anonymous.ping()).toBe('PONG');
    await expect(anonymous.get(`${PREFIX}signing-keys`)).rejects.toThrow(/NOPERM/);
  });

  it('is what docker-compose.yml gives redis, and each container its own user in REDIS_URL', () => {
    const compose = parse(generatedArtifacts()['docker-compose.yml'] ?? '') as {
      services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
    };
    const command = compose.services['redis']?.command ?? [];
    expect(command.join(' ')).toContain(
      redisUserArguments(
        redisAclUsers(resolveTopology({ MCP_EVERYTHING_ENABLED: 'false' }).enabled, '${STORAGE_PREFIX:-mcp-gw:}'),
        (key) => `\${${key}:?set ${key} in .env}`,
      ).join(' '),
    );
    expect(command).not.toContain('--requirepass');
    expect(compose.services['auth']?.environment?.['REDIS_URL']).toMatch(/^redis:\/\/auth:\$\{REDIS_PASSWORD:/);
    expect(compose.services['fetchs']?.environment?.['REDIS_URL']).toMatch(
      /^redis:\/\/fetchs:\$\{REDIS_PASSWORD_FETCHS:/,
    );
    expect(compose.services['echo-stateful']?.environment?.['REDIS_URL']).toMatch(
      /^redis:\/\/echo-stateful:\$\{REDIS_PASSWORD_ECHO_STATEFUL:/,
    );
  });
});
