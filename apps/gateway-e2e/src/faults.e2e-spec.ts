// Fault injection against the whole gateway as `npm start` runs it, with Redis storage: Redis stopped and
// frozen, a service killed, a wrapped server's child killed mid-call, Ctrl-C with event streams open.
// Every fault must end in a clear answer (an error or a deliberate 503), never a hang or a 500.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, initializeRequest, postMcp } from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { connectWithOAuth } from './support/oauth-client';

/** A redis-server of this suite's own (it is stopped, frozen and restarted), persisting to an append-only file. */
class FaultyRedis {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'faults-redis-'));
  public constructor(public readonly port: number) {}
  public get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  public async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    await waitFor(() => {
      try {
        return execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG';
      } catch {
        return false;
      }
    });
  }
  public async stop(): Promise<void> {
    const process = this.process;
    if (!process || process.exitCode !== null) return;
    process.kill('SIGCONT');
    await new Promise((resolve) => {
      process.once('exit', resolve);
      process.kill('SIGTERM');
    });
  }
  public signal(name: 'SIGSTOP' | 'SIGCONT'): void {
    this.process?.kill(name);
  }
  public async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every process below `pid`, with its command line (from `ps`). */
function descendants(pid: number | undefined): { pid: number; args: string }[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), args: match[3] as string }));
  const found: { pid: number; args: string }[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const entry of table.filter((candidate) => candidate.ppid === parent)) {
      found.push({ pid: entry.pid, args: entry.args });
      queue.push(entry.pid);
    }
  }
  return found;
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let redis: FaultyRedis;
let gateway: RunningGateway;
let token: string;
let everything: string;

/** An MCP initialize through the edge with the token; resolves with the HTTP status. */
const initializeStatus = async (url: string): Promise<number> => {
  const response = await postMcp(url, initializeRequest('2025-11-25'), {
    authorization: `Bearer ${token}`,
    accept: 'application/json',
  });
  await response.body?.cancel();
  return response.status;
};

beforeAll(async () => {
  redis = new FaultyRedis(await freePort());
  await redis.start();
  gateway = await startGateway({ REDIS_URL: redis.url, ...enableOnly('everything') }, {});
  everything = gateway.mcpUrls.get('everything') as string;
  const { client, provider } = await connectWithOAuth(everything, 'faults', []);
  await client.close();
  token = provider.tokens()?.access_token as string;
}, 200_000);

afterAll(async () => {
  await gateway?.stop();
  await redis?.remove();
});

it('a wrapped server killed mid-call: the SDK client gets a JSON-RPC error, not its own timeout', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(everything), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'faults', version: '1.0.0' });
  await client.connect(transport);
  let killed = false;
  const outcome = await client
    .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 60 } }, undefined, {
      onprogress: () => {
        if (killed) return;
        killed = true;
        for (const entry of descendants(gateway.pid))
          if (entry.args.includes('server-everything')) process.kill(entry.pid, 'SIGKILL');
      },
    })
    .then(
      () => 'completed',
      (error: Error) => error.message,
    );
  expect(outcome).toMatch(/-32603: The MCP server process exited/);
  await client.close();
});

it('a service killed: npm start says so and restarts it; requests through the edge work again', async () => {
  const [service] = descendants(gateway.pid).filter((entry) => entry.args.includes('dist/apps/stdio-proxy/'));
  expect(service).toBeDefined();
  process.kill(service?.pid as number, 'SIGKILL');
  await waitFor(() => /everything exited \(SIGKILL\); restarting it in/.test(gateway.output()));
  await waitFor(async () => (await initializeStatus(everything)) === 200);
  expect(gateway.output()).toMatch(/everything restarted \(pid \d+\)/);
});

it('Redis stopped: /verify fails closed with 503 (no 500, no hang); it recovers when Redis is back', async () => {
  await redis.stop();
  expect(await initializeStatus(everything)).toBe(503);
  await redis.start();
  await waitFor(async () => (await initializeStatus(everything)) === 200);
  // The Redis client here (auth's) reports the outage once and its end once, not every reconnect attempt. The
  // stdio-proxy runs one replica (no STDIO_PEER_URL): it keeps no owner registry, so it has no Redis client.
  const count = (pattern: RegExp) => gateway.output().match(pattern)?.length ?? 0;
  await waitFor(() => count(/Redis available again/g) === 1);
  expect(count(/Redis unavailable/g)).toBe(1);
  expect(count(/Redis available again/g)).toBe(1);
});

it('Redis frozen: requests end with 503 within the command timeout; they pass again once it thaws', async () => {
  redis.signal('SIGSTOP');
  try {
    // auth answers from its in-memory revocation copy until its subscriber misses two pongs (about 1 s, documented
    // in docs/auth.md); from then on it asks Redis per request, which times out: 503, never a 500 or a hang.
    await waitFor(async () => (await initializeStatus(everything)) === 503);
  } finally {
    redis.signal('SIGCONT');
  }
  await waitFor(async () => (await initializeStatus(everything)) === 200);
});

it('Ctrl-C with event streams open: every process ends and npm start exits 0', async () => {
  const opened = await postMcp(everything, initializeRequest('2025-11-25'), {
    authorization: `Bearer ${token}`,
    accept: 'application/json',
  });
  const sessionId = opened.headers.get('mcp-session-id') as string;
  await opened.body?.cancel();
  const stream = await fetch(everything, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    },
  });
  expect(stream.status).toBe(200);
  const processes = descendants(gateway.pid).map((entry) => entry.pid);
  expect(processes.length).toBeGreaterThan(3);
  const ended = stream.text().then(
    () => 'ended',
    () => 'ended',
  );
  expect(await gateway.stop()).toBe(0);
  expect(await ended).toBe('ended');
  expect(processes.filter(isRunning)).toEqual([]);
});
