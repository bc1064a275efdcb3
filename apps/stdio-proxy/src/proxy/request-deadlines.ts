import { ErrorCode, type JSONRPCErrorResponse, type RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * Client requests whose HTTP stream is still open, each with a deadline. A request leaves when its answer
 * passes, or when the deadline ends it with an error (MCP 2025-11-25 basic/lifecycle "Timeouts": send
 * a cancellation and stop waiting; the clock restarts on progress); so no POST stays open without an end.
 */
export class RequestDeadlines<K> {
  private readonly timers = new Map<K, NodeJS.Timeout>();

  public constructor(
    private readonly timeoutMs: number,
    private readonly onExpired: (key: K) => void,
  ) {}

  public start(key: K): void {
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.onExpired(key);
    }, this.timeoutMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Restarts the clock of a request still open (progress, or a message of the server about it). */
  public touch(key: K): void {
    if (this.timers.has(key)) this.start(key);
  }

  /** True when the request was still open. */
  public settle(key: K): boolean {
    const timer = this.timers.get(key);
    clearTimeout(timer);
    return this.timers.delete(key);
  }

  public has(key: K): boolean {
    return this.timers.has(key);
  }

  public get size(): number {
    return this.timers.size;
  }

  /** Ends every open request; returns their keys. */
  public drain(): K[] {
    const keys = [...this.timers.keys()];
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    return keys;
  }
}

/** The answer to a request the child will never answer: it exited, or the session ended. */
export function endedError(id: RequestId, childExited: boolean): JSONRPCErrorResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: ErrorCode.InternalError,
      message: childExited ? 'The MCP server process exited' : 'The session ended',
    },
  };
}

/** The answer to a request the child did not answer in time. */
export function timeoutError(id: RequestId, seconds: number): JSONRPCErrorResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: ErrorCode.RequestTimeout, message: `Request timed out: no answer within ${seconds} s` },
  };
}

/**
 * The ids of the requests in a POST body (one message or a batch) that reuse an id still open in the
 * session or repeat one within the batch (JSON-RPC 2.0 §4: the id identifies the request).
 */
export function duplicateIdOf(body: unknown, isOpen: (id: RequestId) => boolean): RequestId | undefined {
  const seen = new Set<RequestId>();
  for (const message of Array.isArray(body) ? body : [body]) {
    if (typeof message !== 'object' || message === null || !('method' in message) || !('id' in message)) continue;
    const id = (message as { id: unknown }).id;
    if (typeof id !== 'string' && typeof id !== 'number') continue;
    if (seen.has(id) || isOpen(id)) return id;
    seen.add(id);
  }
  return undefined;
}
