import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '@gateway/config';
import { StdioProxyEnv } from '../stdio-proxy.env';
import {
  childDirsRemoved,
  prepareChildDir,
  removeChildDir,
  resolveChildCommand,
  userDirectoryName,
} from './child-command';

const envWith = (values: Partial<StdioProxyEnv>): StdioProxyEnv => Object.assign(new StdioProxyEnv(), values);

describe('resolveChildCommand', () => {
  const base = mkdtempSync(join(tmpdir(), 'child-command-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('gives each user their own memory file under MCP_DATA_DIR, created (docs/security.md, per-user data)', () => {
    const dataDir = join(base, 'data');
    const alice = resolveChildCommand(envWith({ MCP_SERVICE: 'memory', MCP_DATA_DIR: dataDir }), 'github:1');
    const bob = resolveChildCommand(envWith({ MCP_SERVICE: 'memory', MCP_DATA_DIR: dataDir }), 'github:2');
    expect(alice.command).toBe(process.execPath);
    expect(alice.args).toEqual([join(process.cwd(), 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')]);
    expect(alice.env).toEqual({
      MEMORY_FILE_PATH: join(dataDir, 'users', userDirectoryName('github:1'), 'memory.jsonl'),
    });
    expect(bob.env['MEMORY_FILE_PATH']).not.toBe(alice.env['MEMORY_FILE_PATH']);
    expect(existsSync(join(dataDir, 'users', userDirectoryName('github:1')))).toBe(true);
    expect(alice.egress).toBe('none');
  });

  it("confines server-filesystem to the user's own directory of MCP_WORKSPACE_DIR", () => {
    const workspace = join(base, 'workspace');
    expect(
      resolveChildCommand(envWith({ MCP_SERVICE: 'filesystem', MCP_WORKSPACE_DIR: workspace }), 'github:1').args,
    ).toEqual([
      join(process.cwd(), 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'),
      join(workspace, 'users', userDirectoryName('github:1')),
    ]);
    expect(
      resolveChildCommand(envWith({ MCP_SERVICE: 'filesystem', MCP_WORKSPACE_DIR: workspace }), null).args[1],
    ).toBe(join(workspace, 'users', 'anonymous'));
  });

  it("runs playwright in the user's own directory, with a browser profile of each child's own there", () => {
    const dataDir = join(base, 'browser');
    const command = resolveChildCommand(envWith({ MCP_SERVICE: 'playwright', MCP_DATA_DIR: dataDir }), 'github:1');
    const own = join(dataDir, 'users', userDirectoryName('github:1'));
    expect(command.cwd).toBe(own);
    expect(command.childDir).toMatch(new RegExp(`^${own}/children/[0-9a-f-]{36}$`));
    expect(command.args).toContain(`--user-data-dir=${command.childDir}/profile`);
    expect(command.args).toContain(`--output-dir=${own}/playwright/output`);
    // Left for the sandbox, which knows the proxy's address as the child sees it.
    expect(command.args).toContain('--proxy-server=${EGRESS_PROXY_URL}');
    expect(command).toMatchObject({ egress: 'internet', shareable: true });
  });

  it('gives every playwright child its own profile: two of one user, and two users sharing a data directory', () => {
    const dataDir = join(base, 'profiles');
    const env = envWith({ MCP_SERVICE: 'playwright', MCP_DATA_DIR: dataDir });
    const shared = envWith({ MCP_SERVICE: 'playwright', MCP_DATA_DIR: dataDir, STDIO_DATA_SCOPE: 'shared' });
    // A user's 2025 child and 2026-07-28 child (or two sessions' children with STDIO_CHILD_PER=session).
    const commands = [
      resolveChildCommand(env, 'github:1'),
      resolveChildCommand(env, 'github:1'),
      resolveChildCommand(shared, 'github:1'),
      resolveChildCommand(shared, 'github:2'),
    ];
    const profiles = commands.map((command) => command.args.find((arg) => arg.startsWith('--user-data-dir=')));
    expect(new Set(profiles).size).toBe(4);
    expect(commands[2]?.childDir).toMatch(new RegExp(`^${dataDir}/children/`));
    // Named, not created: the spawner creates it right before the child starts.
    for (const command of commands) expect(existsSync(command.childDir as string)).toBe(false);
  });

  it("creates a child's own directory (0700) before it starts and removes it, with its content, after it exits", async () => {
    const command = resolveChildCommand(envWith({ MCP_SERVICE: 'playwright', MCP_DATA_DIR: join(base, 'life') }), null);
    const dir = command.childDir as string;
    prepareChildDir(command);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    prepareChildDir(command); // idempotent
    writeFileSync(join(dir, 'SingletonLock'), 'host-1');
    void removeChildDir(command);
    await childDirsRemoved();
    expect(existsSync(dir)).toBe(false);
    await removeChildDir(command); // idempotent
  });

  it('names no child directory for servers that do not use ${MCP_CHILD_DIR}', () => {
    for (const service of ['memory', 'filesystem', 'everything', 'sequential-thinking'])
      expect(resolveChildCommand(envWith({ MCP_SERVICE: service, MCP_DATA_DIR: base }), 'github:1').childDir).toBe(
        undefined,
      );
  });

  it('shares one directory only when STDIO_DATA_SCOPE=shared says so', () => {
    const dataDir = join(base, 'shared');
    const env = envWith({ MCP_SERVICE: 'memory', MCP_DATA_DIR: dataDir, STDIO_DATA_SCOPE: 'shared' });
    expect(resolveChildCommand(env, 'github:1').env).toEqual({ MEMORY_FILE_PATH: join(dataDir, 'memory.jsonl') });
    expect(resolveChildCommand(env, 'github:2').env).toEqual({ MEMORY_FILE_PATH: join(dataDir, 'memory.jsonl') });
  });

  it('names user directories so that no user id can leave the users directory', () => {
    for (const id of ['..', '../../etc', '/etc/passwd', 'a/../../b', 'x\0y', '.', '', 'é'.repeat(5000)]) {
      expect(userDirectoryName(id)).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(userDirectoryName('github:1')).not.toBe(userDirectoryName('github:2'));
    expect(userDirectoryName(null)).toBe('anonymous');
  });

  it('prefers an explicit STDIO_COMMAND', () => {
    const command = resolveChildCommand(
      envWith({ MCP_SERVICE: 'memory', STDIO_COMMAND: '/usr/bin/my-server', STDIO_ARGS: ' --a  b ', STDIO_CWD: base }),
      'github:1',
    );
    expect(command).toMatchObject({
      command: '/usr/bin/my-server',
      args: ['--a', 'b'],
      env: {},
      cwd: base,
      egress: 'none', // STDIO_EGRESS: no network unless asked for
    });
  });

  it('refuses an unknown or non-stdio service, naming the key', () => {
    for (const name of ['', 'nope', 'echo-stateless']) {
      expect(() => resolveChildCommand(envWith({ MCP_SERVICE: name }), null)).toThrow(ConfigValidationError);
    }
    expect(() => resolveChildCommand(envWith({ MCP_SERVICE: 'nope' }), null)).toThrow(
      /MCP_SERVICE="nope": must be one of everything, memory, filesystem, sequential-thinking/,
    );
  });
});
