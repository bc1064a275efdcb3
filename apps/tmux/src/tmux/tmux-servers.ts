import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigValidationError } from '@gateway/config';
import { probeNetns } from '@gateway/egress';
import { TmuxEnv } from '../tmux.env';

/** A tmux command that failed for a reason the caller can act on (no such window): a tool error, not a crash. */
export class TmuxError extends Error {}

/** The session every user's tmux server starts with. */
export const FIRST_SESSION = 'main';

/** The SHA-256 of a stable user id: names the user's home directory and (shortened) socket; no id names a path. */
const hashOf = (userId: string) => createHash('sha256').update(userId, 'utf8').digest('hex');

interface UserServer {
  readonly socket: string;
  readonly home: string;
  idle?: NodeJS.Timeout;
}

/**
 * One tmux server per user (docs/mcp-services.md, "tmux"): its own socket (`-S`, in a 0700 directory), started on the
 * user's first command with a session `main` in the user's own home directory, ended (kill-server: every program in
 * it) after TMUX_IDLE_TIMEOUT seconds without a command and when the service stops. A user's commands only ever name
 * that user's socket, so no command reaches another user's server. The server runs with a minimal environment (never
 * this service's) and, where a network namespace can be made, without network (catalog `egress: none`).
 * Every command is one audit line (`"msg":"tmux"`: user, tool, tmux arguments).
 */
@Injectable()
export class TmuxServers implements OnApplicationShutdown {
  private readonly logger = new Logger('tmux');
  private readonly servers = new Map<string, UserServer>();
  private readonly root: string;
  /** `unshare … --` before the command that starts a server, or nothing. */
  private readonly netns: readonly string[];

  public constructor(private readonly env: TmuxEnv) {
    this.root = resolve(env.MCP_DATA_DIR, 'tmux');
    for (const dir of ['sockets', 'home']) mkdirSync(join(this.root, dir), { recursive: true, mode: 0o700 });
    const mode = env.TMUX_NETNS || (env.NODE_ENV === 'production' ? 'required' : 'auto');
    const variant = mode === 'off' ? undefined : probeNetns();
    this.netns = variant ? ['unshare', ...variant, '--'] : [];
    const why =
      'cannot create a network namespace (unshare --net needs Linux and root, CAP_SYS_ADMIN or user namespaces)';
    if (mode === 'required' && !variant)
      throw new ConfigValidationError(
        [`TMUX_NETNS=required: ${why}; isolate the container's network and set TMUX_NETNS=off`],
        'tmux',
      );
    if (mode === 'auto' && !variant)
      this.logger.warn(`egress: none is NOT enforced for the shells: ${why} (TMUX_NETNS=auto)`);
    else
      this.logger.log(
        `users' tmux servers ${variant ? `in a fresh network namespace (unshare ${variant.join(' ')})` : 'on the container network (TMUX_NETNS=off)'}`,
      );
  }

  /**
   * Runs `tmux <args>` against the user's own server, starting it first if it is not running, and returns its
   * standard output. Writes the audit line first, so a command that hangs is on record too.
   */
  public async run(userId: string, tool: string, args: readonly string[]): Promise<string> {
    this.logger.log({ msg: 'tmux', user: userId, tool, args });
    const server = this.serverOf(userId);
    if (!(await this.alive(server))) await this.start(server);
    this.touch(userId, server);
    return this.tmux(server, args);
  }

  /** Ends the user's server (every window and program in it). */
  public async end(userId: string): Promise<void> {
    const server = this.servers.get(userId);
    if (!server) return;
    this.servers.delete(userId);
    clearTimeout(server.idle);
    await this.tmux(server, ['kill-server']).catch(() => undefined);
    rmSync(server.socket, { force: true });
    this.logger.log({ msg: 'tmux', user: userId, tool: 'end', args: [] });
  }

  public async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((userId) => this.end(userId)));
  }

  private serverOf(userId: string): UserServer {
    let server = this.servers.get(userId);
    if (!server) {
      const hash = hashOf(userId);
      // A socket path has a length limit (108 bytes): 128 bits of the hash name it.
      server = { socket: join(this.root, 'sockets', hash.slice(0, 32)), home: join(this.root, 'home', hash) };
      this.servers.set(userId, server);
    }
    return server;
  }

  private touch(userId: string, server: UserServer): void {
    clearTimeout(server.idle);
    server.idle = setTimeout(() => void this.end(userId), this.env.TMUX_IDLE_TIMEOUT * 1000);
    server.idle.unref();
  }

  private async alive(server: UserServer): Promise<boolean> {
    return this.tmux(server, ['list-sessions']).then(
      () => true,
      () => false,
    );
  }

  private async start(server: UserServer): Promise<void> {
    mkdirSync(server.home, { recursive: true, mode: 0o700 });
    const [command = 'tmux', ...prefix] = [...this.netns, 'tmux'];
    await this.exec(
      command,
      [
        ...prefix,
        ...['-S', server.socket, '-f', '/dev/null'],
        ...['new-session', '-d', '-s', FIRST_SESSION, '-c', server.home, '-x', '200', '-y', '50'],
      ],
      server.home,
    );
  }

  private tmux(server: UserServer, args: readonly string[]): Promise<string> {
    return this.exec('tmux', ['-S', server.socket, ...args]);
  }

  /** The server (and so the shells) starts with this environment only: the user's HOME, never the service's keys. */
  private exec(command: string, args: readonly string[], home = this.root): Promise<string> {
    return new Promise((done, fail) => {
      execFile(
        command,
        args,
        {
          cwd: this.root,
          timeout: 10_000,
          maxBuffer: 4 * 1024 * 1024,
          env: {
            HOME: home,
            PATH: process.env['PATH'] ?? '/usr/bin:/bin',
            SHELL: process.env['SHELL'] || '/bin/sh',
            TERM: 'xterm-256color',
            LANG: 'C.UTF-8',
          },
        },
        (error, stdout, stderr) => (error ? fail(new TmuxError(stderr.trim() || error.message)) : done(stdout)),
      );
    });
  }
}
