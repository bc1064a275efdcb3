import type { Logger } from '@nestjs/common';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { McpExchange } from './mcp-route';

/** Answers one checked request through the SDK v2 web-standard face: `produce` turns a `Request` into a `Response`. */
export type WebHandler = (request: Request, authInfo: AuthInfo | undefined) => Promise<Response>;

/**
 * Bridges Fastify to a web-standard MCP handler: `@modelcontextprotocol/node` builds the `Request` (aborted when
 * the client goes away) and writes the `Response` back with backpressure; the headers of an event stream are
 * sent at once (a client waits for them before it reads events).
 */
export async function serveWeb(exchange: McpExchange, produce: WebHandler, logger: Logger): Promise<void> {
  const { request, reply } = exchange;
  reply.hijack();
  const node = toNodeHandler(
    { fetch: (web, options) => produce(web, options?.authInfo) },
    { onerror: (error) => logger.error(`MCP request failed: ${error.stack ?? error.message}`) },
  );
  const raw = reply.raw;
  const response: Parameters<typeof node>[1] = {
    writeHead: (status, headers) => {
      raw.writeHead(status, headers);
      if (/^text\/event-stream/i.test(String(headers?.['content-type'] ?? ''))) raw.flushHeaders();
      return raw;
    },
    write: (chunk) => raw.write(chunk),
    end: (chunk) => (chunk === undefined ? raw.end() : raw.end(chunk)),
    on: (event, listener) => raw.on(event, listener),
    get destroyed() {
      return raw.destroyed;
    },
  };
  await node(request.raw as Parameters<typeof node>[0], response, exchange.body);
}
