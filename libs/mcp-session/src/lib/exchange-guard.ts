/** A JSON-RPC request id as it appears on the wire. */
export type JsonRpcId = string | number;

export interface ExchangeGuardOptions {
  /** The ids of the JSON-RPC requests in the POST body (none: notifications or responses only). */
  readonly ids: readonly JsonRpcId[];
  /** The body was a JSON-RPC batch: a JSON answer is an array. */
  readonly batch: boolean;
  /** The client accepts only JSON: an event stream from the transport is collapsed into one JSON answer. */
  readonly jsonOnly: boolean;
  /** Server-side bound of the whole exchange, in milliseconds. */
  readonly timeoutMs: number;
  /** Stops the work behind the exchange (the timeout fired, or the client went away). */
  readonly abort: () => void;
  /** Called exactly once, when every request of the exchange was answered or abandoned. */
  readonly settled: () => void;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  // Proxies such as nginx buffer responses unless told not to; an event stream must flow as written.
  'x-accel-buffering': 'no',
};

/** A JSON-RPC error answer to one request. */
export function jsonRpcErrorFor(id: JsonRpcId | null, code: number, message: string): object {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** The ids of the JSON-RPC requests (not notifications, not responses) in a parsed body. */
export function requestIdsOf(body: unknown): JsonRpcId[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages.flatMap((message: unknown) => {
    if (typeof message !== 'object' || message === null) return [];
    const { id, method } = message as { id?: unknown; method?: unknown };
    return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? [id] : [];
  });
}

/**
 * Bounds one POST exchange and keeps its answer well-formed whatever the server behind it does
 * (JSON-RPC 2.0 §5: every request gets a response; MCP basic/transports: a POST's stream carries the
 * responses to its requests):
 * - after `timeoutMs` every request still unanswered gets a JSON-RPC error (-32603) on its own stream
 *   (or JSON body) and the work is aborted, so a client never waits on silence;
 * - an event stream gets `X-Accel-Buffering: no`, and when the client accepts only JSON the stream is
 *   collapsed into one JSON answer (notifications on it are dropped, as a JSON answer cannot carry them);
 * - `settled` fires once every request was answered, timed out, or its client went away, so callers can
 *   release what they hold for the exchange (e.g. its in-flight ids).
 */
export async function guardExchange(
  produce: () => Promise<Response>,
  options: ExchangeGuardOptions,
): Promise<Response> {
  if (options.ids.length === 0) {
    try {
      return await produce();
    } finally {
      options.settled();
    }
  }
  let settledOnce = false;
  const settle = (): void => {
    if (settledOnce) return;
    settledOnce = true;
    clearTimeout(timer);
    options.settled();
  };
  const pending = new Map(options.ids.map((id) => [JSON.stringify(id), id]));
  const timeoutMessage = `Request timed out: no answer within ${Math.round(options.timeoutMs / 1000)} s`;
  const timeoutErrors = (): object[] => [...pending.values()].map((id) => jsonRpcErrorFor(id, -32603, timeoutMessage));
  let onTimeout: () => void = () => undefined;
  const timer = setTimeout(() => onTimeout(), options.timeoutMs);
  timer.unref();

  const timedOut = new Promise<'timeout'>((resolve) => (onTimeout = () => resolve('timeout')));
  const produced = produce();
  const first = await Promise.race([produced, timedOut]);
  if (first === 'timeout') {
    options.abort();
    void produced.then((late) => late.body?.cancel()).catch(() => undefined);
    const errors = timeoutErrors();
    settle();
    return Response.json(options.batch ? errors : errors[0], { status: 200 });
  }
  const response = first;
  if (!response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    settle();
    return response;
  }

  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  /** Reads whole events from the transport's stream, noting which requests got their response. */
  const events = async function* (): AsyncGenerator<{ raw: string; message: unknown }> {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const raw = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        yield { raw, message: messageOf(raw) };
      }
    }
  };
  const answered = (message: unknown): boolean => {
    if (typeof message !== 'object' || message === null) return false;
    const { id, result, error } = message as { id?: unknown; result?: unknown; error?: unknown };
    if (result === undefined && error === undefined) return false;
    return pending.delete(JSON.stringify(id));
  };

  if (options.jsonOnly) {
    const answers: unknown[] = [];
    const collected = (async (): Promise<'done'> => {
      for await (const { message } of events()) {
        if (answered(message)) answers.push(message);
        if (pending.size === 0) break;
      }
      return 'done';
    })();
    const outcome = await Promise.race([collected, timedOut]).catch(() => 'done' as const);
    if (outcome === 'timeout') options.abort();
    answers.push(...timeoutErrors());
    void reader.cancel().catch(() => undefined);
    settle();
    // The transport's own headers (e.g. Mcp-Session-Id) stay; only the body changes shape.
    const headers = new Headers(response.headers);
    for (const name of ['content-type', 'content-length', 'cache-control', 'connection']) headers.delete(name);
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(options.batch ? answers : answers[0]), { status: 200, headers });
  }

  const encoder = new TextEncoder();
  const iterator = events();
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => {
      onTimeout = () => {
        for (const error of timeoutErrors()) controller.enqueue(encoder.encode(sseMessage(error)));
        pending.clear();
        options.abort();
        void reader.cancel().catch(() => undefined);
        try {
          controller.close();
        } catch {
          // already closed
        }
        settle();
      };
    },
    pull: async (controller) => {
      try {
        const next = await iterator.next();
        if (settledOnce) return;
        if (next.done) {
          controller.close();
          settle();
          return;
        }
        answered(next.value.message);
        controller.enqueue(encoder.encode(next.value.raw));
      } catch (error) {
        controller.error(error);
        settle();
      }
    },
    cancel: async () => {
      // The client went away: the SDK stops writing when its own stream is cancelled.
      options.abort();
      settle();
      await reader.cancel().catch(() => undefined);
    },
  });
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(SSE_HEADERS)) headers.set(name, value);
  return new Response(body, { status: response.status, headers });
}

/** Adds `X-Accel-Buffering: no` to an event-stream response (GET streams). */
export function withStreamingHeaders(response: Response): Response {
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return response;
  const headers = new Headers(response.headers);
  headers.set('x-accel-buffering', 'no');
  return new Response(response.body, { status: response.status, headers });
}

function sseMessage(message: object): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/** The JSON-RPC message of one SSE event (text/event-stream: `data:` lines joined by newlines). */
function messageOf(raw: string): unknown {
  const data = raw
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
  if (data === '') return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
