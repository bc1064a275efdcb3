import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { TmuxEnv } from '../tmux.env';
import { TmuxError, TmuxServers } from './tmux-servers';

const envWith = (values: Partial<TmuxEnv>): TmuxEnv => Object.assign(new TmuxEnv(), values);

async function until(condition: () => boolean | Promise<boolean>, attempts = 100): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met');
}

describe('TmuxServers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tmux-'));
  let servers: TmuxServers;
  const audit = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);

  beforeAll(() => {
    servers = new TmuxServers(envWith({ MCP_DATA_DIR: dataDir, TMUX_NETNS: 'auto' }));
  });
  afterAll(async () => {
    await servers.onApplicationShutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts a user's own server on demand, with a session main in the user's home directory", async () => {
    expect(await servers.run('github:1', 'list_sessions', ['list-sessions', '-F', '#{session_name}'])).toBe('main\n');
    const home = await servers.run('github:1', 'probe', [
      'display-message',
      '-p',
      '-t',
      'main',
      '#{pane_current_path}',
    ]);
    expect(home.trim()).toMatch(new RegExp(`^${join(dataDir, 'tmux', 'home')}/[0-9a-f]{64}$`));
    expect(readdirSync(join(dataDir, 'tmux', 'sockets'))).toHaveLength(1);
  });

  it("never shows one user another user's windows", async () => {
    await servers.run('github:1', 'create_window', ['new-window', '-d', '-t', 'main:', '-n', 'alice-only']);
    const bobs = await servers.run('github:2', 'list_windows', ['list-windows', '-a', '-F', '#{window_name}']);
    expect(bobs).not.toContain('alice-only');
    expect(await servers.run('github:1', 'list_windows', ['list-windows', '-a', '-F', '#{window_name}'])).toContain(
      'alice-only',
    );
    expect(readdirSync(join(dataDir, 'tmux', 'sockets'))).toHaveLength(2);
  });

  it('writes one audit line per command: user, tool and tmux arguments', async () => {
    audit.mockClear();
    await servers.run('github:2', 'send_keys', ['send-keys', '-t', 'main', '-l', '--', 'echo audited']);
    expect(audit).toHaveBeenCalledWith({
      msg: 'tmux',
      user: 'github:2',
      tool: 'send_keys',
      args: ['send-keys', '-t', 'main', '-l', '--', 'echo audited'],
    });
  });

  it('answers a failed tmux command with its message, as a TmuxError', async () => {
    await expect(servers.run('github:1', 'kill_window', ['kill-window', '-t', 'main:99'])).rejects.toThrow(TmuxError);
  });

  it('runs the shells without network where a namespace can be made (catalog egress: none)', async () => {
    // The markers are split in the command, so that only the output can match them.
    const command = `node -e "require('net').connect(9,'127.0.0.1').on('connect',()=>console.log('OPEN'+'ED')).on('error',(e)=>console.log('NET'+'-'+e.code))"`;
    await servers.run('github:1', 'send_keys', ['send-keys', '-t', 'main', '-l', '--', command]);
    await servers.run('github:1', 'send_keys', ['send-keys', '-t', 'main', 'Enter']);
    const screen = () => servers.run('github:1', 'capture_pane', ['capture-pane', '-p', '-t', 'main']);
    await until(async () => /NET-[A-Z]+|OPENED/.test(await screen()));
    expect(await screen()).toMatch(/NET-ENETUNREACH/);
  });

  it('ends an idle server with everything in it, and starts a fresh one on the next command', async () => {
    const quick = new TmuxServers(envWith({ MCP_DATA_DIR: dataDir, TMUX_NETNS: 'auto', TMUX_IDLE_TIMEOUT: 1 }));
    await quick.run('github:3', 'create_window', ['new-window', '-d', '-t', 'main:', '-n', 'short-lived']);
    const sockets = () => readdirSync(join(dataDir, 'tmux', 'sockets')).length;
    expect(sockets()).toBe(3);
    await until(() => sockets() === 2);
    expect(await quick.run('github:3', 'list_windows', ['list-windows', '-a', '-F', '#{window_name}'])).not.toContain(
      'short-lived',
    );
    await quick.onApplicationShutdown();
    expect(sockets()).toBe(2);
    expect(existsSync(join(dataDir, 'tmux', 'home'))).toBe(true);
  });
});
