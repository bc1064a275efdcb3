import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port';

export const REDIS_INSTALL_HINT =
  'Tests need Redis: set REDIS_URL=redis://host:port, or install redis-server ' +
  '(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) so tests can start their own.';

export interface TestRedis {
  readonly url: string;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

/**
 * A Redis for tests: `REDIS_URL` when set, otherwise a throwaway `redis-server` on a free port
 * (no persistence, its own temp dir), otherwise an error that says how to install one.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const configured = process.env['REDIS_URL'];
  if (configured) {
    await waitForRedis(configured, 5_000);
    return { url: configured, stop: async () => undefined };
  }
  if (spawnSync('redis-server', ['--version']).error) throw new Error(REDIS_INSTALL_HINT);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gw-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForRedis(url, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}. ${REDIS_INSTALL_HINT}`, { cause: error });
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForRedis(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // connect() rejects with the same error; no unhandled 'error' event
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`Redis at ${url.replace(/\/\/[^@]*@/, '//***@')} did not answer: ${String(lastError)}`);
}
