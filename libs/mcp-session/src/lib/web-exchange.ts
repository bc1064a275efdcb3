import type { Logger } from '@nestjs/common';
import { toWebRequest } from '@modelcontextprotocol/node';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { McpExchange } from './mcp-route';

/**
 * Answers one checked request through the SDK v2 web-standard face: turns a `Request` into a `Response`.
 * `abort` ends the exchange early (the request's signal fires, so the SDK stops its work), e.g. on a timeout.
 */
export type WebHandler = (request: Request, authInfo: AuthInfo | undefined, abort: () => void) => Promise<Response>;

/**
 * Bridges Fastify to a web-standard MCP handler. The `Request` is built once, by the SDK's own `toWebRequest`
 * (from the body Fastify already parsed), with a signal that fires when the client goes away or `abort` is
 * called; the `Response` is written back with backpressure, and the headers of an event stream are sent at once
 * (a client waits for them before it reads events).
 */
export async function serveWeb(exchange: McpExchange, produce: WebHandler, logger: Logger): Promise<void> {
  const { request, reply } = exchange;
  reply.hijack();
  const raw = reply.raw;
  const controller = new AbortController();
  let finished = false;
  let gone = false;
  let wake: (() => void) | undefined;
  raw.on('close', () => {
    if (finished) return;
    gone = true;
    controller.abort();
    wake?.();
  });
  if (raw.destroyed) {
    gone = true;
    controller.abort();
  }
  let response: Response;
  try {
    const web = await toWebRequest(request.raw, exchange.body, { signal: controller.signal });
    response = await produce(web, (request.raw as { auth?: AuthInfo }).auth, () => controller.abort());
  } catch (error) {
    logger.error(`MCP request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    response = Response.json(
      { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null },
      { status: 500 },
    );
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  if (response.body === null || !/^text\/event-stream/i.test(headers['content-type'] ?? '')) {
    // A JSON answer (or none) is complete: its length is known, and it goes in one write with the headers (node:http
    // joins the head and a string body into one socket write; a Buffer body would be a second write).
    const body = response.body ? await response.text().catch(() => '') : undefined;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    finished = true;
    raw.writeHead(response.status, headers).end(body);
    return;
  }
  raw.writeHead(response.status, headers);
  raw.flushHeaders();
  try {
    for await (const chunk of response.body) {
      if (gone) break;
      if (!raw.write(chunk)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          raw.once('drain', resolve);
        });
      }
    }
  } catch {
    // The body failed mid-stream (the server side ended it): end what was written.
  }
  finished = true;
  raw.end();
}
