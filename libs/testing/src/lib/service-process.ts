import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

export interface ServiceProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartOptions {
  /** Extra environment (PORT, HOST, NODE_ENV and LOG_FORMAT are set unless given). */
  readonly env?: Record<string, string>;
  /** Path polled until it answers 200; default `/readyz`. */
  readonly readyPath?: string;
  readonly timeoutMs?: number;
}

/** The built entry point of an app name (`dist/apps/<app>`) or of a project root such as `tools/conformance-fixture`. */
function mainOf(app: string): string {
  return join(WORKSPACE_ROOT, 'dist', app.includes('/') ? app : `apps/${app}`, 'src/main.js');
}

/**
 * Starts a built app (`dist/apps/<name>/src/main.js`, built by the e2e target's `^build`) as a real
 * process on a free port and waits until it is ready. Black-box: tests talk to it over HTTP only.
 */
export async function startService(app: string, options: StartOptions = {}): Promise<ServiceProcess> {
  const main = mainOf(app);
  if (!existsSync(main)) throw new Error(`${main} is missing: build it first (npx nx run ${app}:build)`);
  const port = options.env?.['PORT'] ? Number(options.env['PORT']) : await freePort();
  let output = '';
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    cwd: WORKSPACE_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      ...options.env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    url,
    port,
    child,
    output: () => output,
    stop: (graceMs = 10_000) => stopProcess(child, graceMs),
  };
  await waitUntilReady(service, options.readyPath ?? '/readyz', options.timeoutMs ?? 30_000);
  return service;
}

/** Runs an app expecting it to exit (e.g. on bad configuration); resolves with its exit code and output. */
export function runUntilExit(
  app: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  const main = mainOf(app);
  return new Promise((resolveExit, reject) => {
    const child = spawn(process.execPath, [main], {
      cwd: WORKSPACE_ROOT,
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${app} did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveExit({ code, output });
    });
  });
}

async function waitUntilReady(service: ServiceProcess, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`process exited with code ${service.child.exitCode} before it was ready:\n${service.output()}`);
    }
    try {
      const response = await fetch(`${service.url}${path}`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  await service.stop(1_000);
  throw new Error(`not ready within ${timeoutMs} ms:\n${service.output()}`);
}

function stopProcess(child: ChildProcess, graceMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveStop(code);
    });
    child.kill('SIGTERM');
  });
}
