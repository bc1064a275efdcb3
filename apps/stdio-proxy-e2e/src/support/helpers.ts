import { initializeRequest, postMcp } from '@gateway/testing';
import { execFileSync } from 'node:child_process';

/** Child processes of a process, from the OS (`ps --ppid`). */
export function childrenOf(pid: number | undefined): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map(Number)
      .filter(Boolean);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^Z/.test(execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Opens a session with a raw initialize (+ initialized); returns its id, or the refusing response. */
export async function openSession(
  url: string,
  identity: Record<string, string>,
): Promise<{ sessionId: string | null; response: Response }> {
  const response = await postMcp(url, initializeRequest('2025-11-25'), { ...identity, accept: 'application/json' });
  const sessionId = response.headers.get('mcp-session-id');
  if (sessionId) {
    await postMcp(
      url,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { ...identity, 'mcp-session-id': sessionId },
    );
  }
  return { sessionId, response };
}

export const ping = (
  url: string,
  sessionId: string,
  identity: Record<string, string>,
  id: string | number = 'ping-1',
): Promise<Response> =>
  postMcp(
    url,
    { jsonrpc: '2.0', id, method: 'ping' },
    { ...identity, accept: 'application/json', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
  );
