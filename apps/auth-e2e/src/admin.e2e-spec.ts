// `npm run admin`: every command against a real Redis and the real auth (and echo-stateful for MCP sessions),
// the admin CLI run as a separate process with auth's configuration, as an operator runs it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  connectMcp,
  freePort,
  type McpConnection,
  type ServiceProcess,
  startService,
  WORKSPACE_ROOT,
} from '@gateway/testing';
import { alice, PUBLIC_URL, redeem, refresh, TokenFixtures, verify } from './support/token-fixtures';

const REDIS_URL = process.env['REDIS_URL'] ?? '';
const ADMIN = join(WORKSPACE_ROOT, 'dist/apps/auth/src/admin.js');

describe('npm run admin', () => {
  const prefix = `e2e-admin-${randomBytes(4).toString('hex')}:`;
  const env = { REDIS_URL, STORAGE_PREFIX: prefix, PUBLIC_URL, ALLOWED_DEV_USERS: '*' };
  let auth: ServiceProcess;
  let fixtures: TokenFixtures;

  const admin = (args: string[], extra: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [ADMIN, ...args],
        { cwd: WORKSPACE_ROOT, env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', ...env, ...extra } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await admin([...args, '--json']);
    if (result.code !== 0) throw new Error(`admin ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };

  beforeAll(async () => {
    fixtures = new TokenFixtures(REDIS_URL, prefix);
    auth = await startService('auth', { env });
  });
  afterAll(async () => {
    await auth?.stop();
    fixtures?.close();
  });

  describe('clients', () => {
    it('lists, shows (without secrets) and deletes a registered client, whose tokens then stop working', async () => {
      const registered = await fetch(`${auth.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'admin e2e',
          redirect_uris: ['http://127.0.0.1:33418/callback'],
          token_endpoint_auth_method: 'client_secret_basic',
        }),
      });
      const { client_id: clientId } = (await registered.json()) as { client_id: string };
      const listed = await json<Array<{ client_id: string; client_name: string }>>(['clients', 'list']);
      expect(listed).toContainEqual(expect.objectContaining({ client_id: clientId, client_name: 'admin e2e' }));
      const table = await admin(['clients', 'list']);
      expect(table.stdout).toMatch(/^CLIENT_ID +CLIENT_NAME +AUTH_METHOD/m);
      expect(table.stdout).toContain(clientId);

      const shown = await admin(['clients', 'show', clientId, '--json']);
      expect(JSON.parse(shown.stdout)).toMatchObject({ clientId, metadata: { client_name: 'admin e2e' } });
      expect(shown.stdout).not.toMatch(/Hash/);

      const client = await fixtures.client('none');
      const { access } = await tokensFor(client);
      expect((await verify(auth.url, access)).status).toBe(200);
      expect((await admin(['clients', 'delete', client.clientId])).stdout).toContain(
        `deleted client ${client.clientId}`,
      );
      expect((await admin(['clients', 'show', client.clientId])).code).toBe(1);
    });

    it('says so for an unknown client id (exit 1) and an unknown command (exit 2, usage)', async () => {
      const unknown = await admin(['clients', 'show', 'no-such-client']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no client no-such-client');
      const bad = await admin(['clients', 'frobnicate']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/unknown command[\s\S]*usage: npm run admin/);
    });
  });

  async function tokensFor(client: Awaited<ReturnType<TokenFixtures['client']>>, user = alice) {
    const result = await redeem(auth.url, client, await fixtures.code(client, { user }));
    expect(result.status).toBe(200);
    return { access: result.body['access_token'] as string, refresh: result.body['refresh_token'] as string };
  }

  describe('grants', () => {
    it("lists a user's grants and revokes every token of that user at once", async () => {
      const bob = { ...alice, sub: `dev:bob-${randomBytes(3).toString('hex')}`, login: 'bob' };
      const first = await tokensFor(await fixtures.client('none'), bob);
      const secondClient = await fixtures.client('none');
      const second = await tokensFor(secondClient, bob);
      const other = await tokensFor(await fixtures.client('none'));

      const grants = await json<Array<{ user: string; client_id: string }>>(['grants', 'list', bob.sub]);
      expect(grants).toHaveLength(2);
      expect(grants.map((grant) => grant.user)).toEqual([bob.sub, bob.sub]);

      const revoked = await admin(['grants', 'revoke', bob.sub]);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toContain('revoked 2 grant(s)');
      for (const token of [first.access, second.access]) expect((await verify(auth.url, token)).status).toBe(401);
      expect((await refresh(auth.url, secondClient, second.refresh)).status).toBe(400);
      expect((await verify(auth.url, other.access)).status).toBe(200);
      expect(await json<unknown[]>(['grants', 'list', bob.sub])).toEqual([]);
    });
  });

  describe('sessions', () => {
    let echo: ServiceProcess;
    let connection: McpConnection;

    beforeAll(async () => {
      echo = await startService('echo-stateful', {
        env: { REDIS_URL, STORAGE_PREFIX: prefix, PORT: String(await freePort()) },
      });
      connection = await connectMcp(`${echo.url}/mcp`, { 'x-user-id': 'dev:carol', 'x-user-name': 'carol' });
    });
    afterAll(async () => {
      await connection?.client.close().catch(() => undefined);
      await echo?.stop();
    });

    it('lists stored MCP sessions and ends one, after which the client must re-initialize', async () => {
      const sessionId = connection.transport.sessionId ?? '';
      const sessions = await json<Array<{ session_id: string; user: string; service: string }>>([
        'sessions',
        'list',
        'dev:carol',
      ]);
      expect(sessions).toEqual([
        expect.objectContaining({ session_id: sessionId, user: 'dev:carol', service: 'echo-stateful' }),
      ]);
      expect((await admin(['sessions', 'end', sessionId])).code).toBe(0);
      const after = await fetch(`${echo.url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
          'x-user-id': 'dev:carol',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
      });
      expect(after.status).toBe(404);
      expect((await admin(['sessions', 'end', sessionId])).stderr).toContain(`no session ${sessionId}`);
    });
  });

  describe('keys', () => {
    it('shows the ring and rotates through the staged rotation: the new key is pending, then signs', async () => {
      const before = await json<Array<{ kid: string; state: string }>>(['keys', 'status']);
      expect(before.filter((key) => key.state === 'signing')).toHaveLength(1);
      const rotated = await json<{ added: string; signsFrom: string }>(['keys', 'rotate']);
      const after = await json<Array<{ kid: string; state: string }>>(['keys', 'status']);
      expect(after[0]).toMatchObject({ kid: rotated.added, state: 'pending' });
      expect(after.find((key) => key.state === 'signing')?.kid).toBe(
        before.find((key) => key.state === 'signing')?.kid,
      );
      const now = await json<{ added: string }>(['keys', 'rotate', '--now']);
      expect((await json<Array<{ kid: string; state: string }>>(['keys', 'status']))[0]).toMatchObject({
        kid: now.added,
        state: 'signing',
      });
      expect((await admin(['keys', 'rotate', '--activate-in', '1'])).code).toBe(2);
    });
  });

  describe('config check and storage errors', () => {
    it('prints the effective topology with secrets hidden', async () => {
      const result = await admin(['config', 'check'], {
        GITHUB_CLIENT_ID: 'gh-id',
        GITHUB_CLIENT_SECRET: 'very-secret-value',
        ALLOWED_GITHUB_USERS: '*',
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('configuration valid');
      expect(result.stdout).toContain(`${PUBLIC_URL}/echo-stateful/mcp`);
      expect(result.stdout).not.toContain('very-secret-value');
      const checked = JSON.parse((await admin(['config', 'check', '--json'])).stdout) as { issuer: string };
      expect(checked.issuer).toBe(PUBLIC_URL);
    });

    it('names every bad key of an invalid .env and exits 1', async () => {
      const result = await admin(['config', 'check'], { PORT: 'abc', REDIS_URL: 'http://secret@nowhere' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('PORT="abc"');
      expect(result.stderr).not.toContain('secret@nowhere');
    });

    it('says clearly when storage is unreachable or memory', async () => {
      const port = await freePort();
      const down = await admin(['clients', 'list'], { REDIS_URL: `redis://127.0.0.1:${port}` });
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
      const memory = await admin(['clients', 'list'], { REDIS_URL: '' });
      expect(memory.code).toBe(1);
      expect(memory.stderr).toContain('REDIS_URL is empty');
    });
  });
});
