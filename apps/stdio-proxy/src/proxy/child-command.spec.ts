import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '@gateway/config';
import { StdioProxyEnv } from '../stdio-proxy.env';
import { resolveChildCommand } from './child-command';

const envWith = (values: Partial<StdioProxyEnv>): StdioProxyEnv => Object.assign(new StdioProxyEnv(), values);

describe('resolveChildCommand', () => {
  const base = mkdtempSync(join(tmpdir(), 'child-command-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('substitutes and creates MCP_DATA_DIR for server-memory', () => {
    const dataDir = join(base, 'data');
    const command = resolveChildCommand(envWith({ MCP_SERVICE: 'memory', MCP_DATA_DIR: dataDir }));
    expect(command.command).toBe(process.execPath);
    expect(command.args).toEqual(['node_modules/@modelcontextprotocol/server-memory/dist/index.js']);
    expect(command.env).toEqual({ MEMORY_FILE_PATH: join(dataDir, 'memory.jsonl') });
    expect(existsSync(dataDir)).toBe(true);
  });

  it('confines server-filesystem to MCP_WORKSPACE_DIR', () => {
    const workspace = join(base, 'workspace');
    expect(resolveChildCommand(envWith({ MCP_SERVICE: 'filesystem', MCP_WORKSPACE_DIR: workspace })).args).toEqual([
      'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
      workspace,
    ]);
  });

  it('prefers an explicit STDIO_COMMAND', () => {
    const command = resolveChildCommand(
      envWith({ MCP_SERVICE: 'memory', STDIO_COMMAND: '/usr/bin/my-server', STDIO_ARGS: ' --a  b ', STDIO_CWD: base }),
    );
    expect(command).toMatchObject({ command: '/usr/bin/my-server', args: ['--a', 'b'], env: {}, cwd: base });
  });

  it('refuses an unknown or non-stdio service, naming the key', () => {
    for (const name of ['', 'nope', 'echo-stateless']) {
      expect(() => resolveChildCommand(envWith({ MCP_SERVICE: name }))).toThrow(ConfigValidationError);
    }
    expect(() => resolveChildCommand(envWith({ MCP_SERVICE: 'nope' }))).toThrow(
      /MCP_SERVICE="nope": must be one of everything, memory, filesystem, sequential-thinking/,
    );
  });
});
