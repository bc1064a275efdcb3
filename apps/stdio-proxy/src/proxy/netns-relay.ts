/**
 * Runs inside an `egress: internet` child's network namespace (child-sandbox.ts), as the command `unshare` starts:
 * `node netns-relay.js <egress proxy socket> -- <command> [args...]`. It brings the namespace's loopback up, listens on
 * 127.0.0.1:{@link RELAY_PORT} and forwards every connection to the egress proxy through its Unix socket (a path on
 * the shared file system: sockets are not bound to a network namespace), then runs the server with this process's
 * stdio, forwards the SDK's stop signals to it and exits with it. The namespace has no other interface: the server
 * (and a browser it starts) can reach the egress proxy and nothing else, whatever HTTP client it uses. It is PID 1 of
 * its own PID namespace (`unshare --pid --fork --kill-child`): when it dies, with unshare or on its own, the kernel
 * ends every process under it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { constants } from 'node:os';

/** The egress proxy's address inside every namespace (each has its own loopback). */
export const RELAY_PORT = 3128;

/** Pipes two sockets into each other; either one's end or error closes both. */
export function splice(a: Socket, b: Socket): void {
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
  a.pipe(b).pipe(a);
}

function fail(message: string): never {
  process.stderr.write(`netns-relay: ${message}\n`);
  process.exit(1);
}

function main(): void {
  const [socketPath, separator, command, ...args] = process.argv.slice(2);
  if (!socketPath || separator !== '--' || !command) fail('usage: netns-relay <socket> -- <command> [args...]');
  if (spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0)
    fail('cannot bring up the loopback interface (ip link set lo up)');
  const relay = createServer((socket) => splice(socket, connect(socketPath)));
  relay.on('error', (error) => fail(`cannot listen on 127.0.0.1:${RELAY_PORT}: ${error.message}`));
  relay.listen(RELAY_PORT, '127.0.0.1', () => {
    const child = spawn(command, args, { stdio: 'inherit' });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
    child.on('error', (error) => fail(`cannot start ${command}: ${error.message}`));
    child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

if (require.main === module) main();
