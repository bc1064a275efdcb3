import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKeyOf, SERVICES } from '@gateway/catalog';
import { freePort, WORKSPACE_ROOT } from '@gateway/testing';

/** The catalog's services enabled by default: what a fresh clone's `npm start` serves. */
export const SERVICE_NAMES = SERVICES.filter((service) => service.enabledByDefault).map((service) => service.name);

/** `MCP_<NAME>_ENABLED=true` for these catalog services (also those off by default), `false` for every other. */
export function enableOnly(...names: string[]): Record<string, string> {
  return Object.fromEntries(
    SERVICES.map((service) => [`MCP_${envKeyOf(service.name)}_ENABLED`, String(names.includes(service.name))]),
  );
}

export interface RunningGateway {
  /** The issuer as `npm start` printed it (path mode: the edge's origin, PUBLIC_URL). */
  readonly url: string;
  readonly authUrl: string;
  /** Enabled services as `npm start` printed them: name → MCP URL. */
  readonly mcpUrls: ReadonlyMap<string, string>;
  /** Where each service listens (behind the edge). */
  readonly upstreams: ReadonlyMap<string, string>;
  /** The `npm start` process (tools/scripts/start.mjs). */
  readonly pid: number | undefined;
  output(): string;
  /** Ctrl-C, then its exit code (SIGKILL after 20 s: then null). */
  stop(): Promise<number | null>;
}

/**
 * Starts the gateway exactly as `npm start` does (tools/scripts/start.mjs, without its build step: the e2e
 * target has built everything), on free ports: the edge on PUBLIC_URL's port, auth and the services on the
 * ports of AUTH_UPSTREAM / MCP_<NAME>_UPSTREAM. Memory storage and the dev login, as on a fresh clone.
 */
export async function startGateway(
  extraEnv: Record<string, string> = {},
  options: {
    readonly edgePort?: number;
    /** services npm start must not start (`--skip`) */ readonly skip?: readonly string[];
  } = {},
): Promise<RunningGateway> {
  const edgePort = options.edgePort ?? (await freePort());
  const authUrl = `http://127.0.0.1:${await freePort()}`;
  const upstreams = new Map<string, string>();
  for (const { name } of SERVICES) upstreams.set(name, `http://127.0.0.1:${await freePort()}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'gateway-e2e-'));
  const publicUrl = `http://127.0.0.1:${edgePort}`;
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? dataDir,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    HOST: '127.0.0.1',
    REDIS_URL: '',
    PUBLIC_URL: publicUrl,
    AUTH_UPSTREAM: authUrl,
    MCP_DATA_DIR: join(dataDir, 'data'),
    MCP_WORKSPACE_DIR: dataDir,
    ...Object.fromEntries([...upstreams].map(([name, upstream]) => [`MCP_${envKeyOf(name)}_UPSTREAM`, upstream])),
    ...extraEnv,
  };
  const child = spawn(
    process.execPath,
    [
      join(WORKSPACE_ROOT, 'tools/scripts/start.mjs'),
      '--no-build',
      ...(options.skip?.length ? ['--skip', options.skip.join(',')] : []),
    ],
    { cwd: WORKSPACE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const stop = async () => {
    const code = await stopProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  const deadline = Date.now() + 170_000;
  while (!/^Ctrl-C stops everything/m.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway did not start:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const mcpUrls = new Map(
    [...output.matchAll(/^\s{4}(\S+)\s+(http:\/\/\S+\/mcp)$/gm)].map((match) => [
      match[1] as string,
      match[2] as string,
    ]),
  );
  const url = /issuer (\S+)/.exec(output)?.[1] ?? publicUrl;
  return { url, authUrl, mcpUrls, upstreams, pid: child.pid, output: () => output, stop };
}

function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGINT');
  });
}
