import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@nestjs/common';
import { type CallerIdentity, identityFromHeaders } from '@gateway/contracts';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type GatewayTopology, publicOrigins } from '@gateway/catalog';
import { setJsonResponses } from './sdk-session';
import type { ToolPolicy } from './tool-policy';

/** One request to `/mcp` that passed the transport-level checks. */
export interface McpExchange {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  /** The parsed JSON body (POST only). */
  readonly body: unknown;
  readonly identity: CallerIdentity | undefined;
  /** Answer a POST with JSON instead of SSE (the client did not accept SSE). */
  readonly jsonOnly: boolean;
  /**
   * `modern`: MCP 2026-07-28 (a per-request `_meta` envelope, no session), including requests the modern path
   * refuses (bad envelope, header/body mismatch); `legacy`: 2025-era traffic (sessions, `initialize`).
   */
  readonly era: 'legacy' | 'modern';
}

export interface McpRouteOptions {
  /** Default `/mcp`; `/mcp/` is served too. */
  readonly path?: string | undefined;
  readonly allowedOrigins: readonly string[];
  /**
   * Development only (`NODE_ENV` other than production): also allow `http(s)://localhost`, `127.0.0.1` and
   * `[::1]` on any port, so a browser client on the developer's machine (the Inspector UI) can call the
   * gateway. A DNS-rebinding page has a foreign origin, which is still refused (docs/mcp-services.md).
   */
  readonly localhostOrigins?: boolean;
  /** The deployment's catalog (from the validated env): its public origins are always allowed; absent = none. */
  readonly topology?: GatewayTopology | undefined;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** Per-tool authorization and the audit stream (docs/authorization.md); absent: the service has no policy. */
  readonly policy?: ToolPolicy | undefined;
  /** Serves a checked request (sessions, then `serveTransport`). */
  readonly handle: (exchange: McpExchange) => Promise<void>;
}

type RawRequest = IncomingMessage & { auth?: AuthInfo };

/**
 * `/mcp` and `/mcp/` (path-to-regexp's optional segment), for `PlatformModule.forRoot({ quietPaths })`: the route
 * writes its own access line (`logAccess`), so pino-http's per-request child logger (≈ 8 % of an MCP call's CPU,
 * docs/benchmarks.md) stays off it.
 */
export const MCP_QUIET_PATHS: readonly string[] = ['/mcp{/}'];

/**
 * Registers `/mcp` as an encapsulated Fastify plugin (its body parser and error handler stay local) with
 * the checks every MCP service shares (MCP 2025-11-25 basic/transports); every refusal is a JSON-RPC
 * error body with a 4xx status.
 */
export function registerMcpRoute(fastify: FastifyInstance, options: McpRouteOptions): void {
  const path = options.path ?? '/mcp';
  // The gateway's own public origins are always allowed (a page served by the gateway may call it);
  // `*` in the list allows every origin (then the bearer token alone protects the service).
  const allowedOrigins = new Set([
    ...options.allowedOrigins,
    ...(options.topology ? publicOrigins(options.topology) : []),
  ]);
  const anyOrigin = allowedOrigins.has('*');
  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const receivedAt = performance.now();
    const access: AccessDetail = {};
    reply.raw.once('close', () => logAccess(options.logger, request, reply.raw.statusCode, receivedAt, access));
    const origin = request.headers.origin;
    // basic/transports "Security Warning": servers MUST validate Origin; an invalid one gets 403.
    if (
      origin !== undefined &&
      !anyOrigin &&
      !allowedOrigins.has(origin) &&
      !(options.localhostOrigins === true && isLoopbackOrigin(origin))
    )
      return refuse(reply, 403, `Origin ${origin} is not allowed`);
    const version = headerOf(request, 'mcp-protocol-version');
    let body: unknown;
    let jsonOnly = false;
    if (request.method === 'POST') {
      if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
        return refuse(reply, 415, 'Content-Type must be application/json');
      }
      try {
        body = JSON.parse(typeof request.body === 'string' ? request.body : '');
      } catch {
        return refuse(reply, 400, 'Parse error: the body is not valid JSON', -32700);
      }
    }
    // The SDK's own era classification (2026-07-28 basic/transports: the per-request envelope claim decides).
    const era =
      classifyInboundRequest({
        httpMethod: request.method,
        protocolVersionHeader: version,
        mcpMethodHeader: headerOf(request, 'mcp-method'),
        mcpNameHeader: headerOf(request, 'mcp-name'),
        body,
      }).kind === 'legacy'
        ? 'legacy'
        : 'modern';
    if (era === 'legacy') {
      // basic/transports "Protocol Version Header" (2025-11-25): an unsupported version gets 400.
      // A body-less GET/DELETE naming 2026-07-28 goes on: the service answers it 405 (no streams, no sessions).
      const modernOperation = request.method !== 'POST' && version === '2026-07-28';
      if (version !== undefined && !modernOperation && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        return refuse(
          reply,
          400,
          `Unsupported MCP-Protocol-Version ${version}; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
        );
      }
      // JSON-RPC batches exist up to 2025-03-26 (the default without the header); 2025-06-18 removed them.
      if (Array.isArray(body) && version !== undefined && version >= '2025-06-18') {
        return refuse(reply, 400, `Invalid Request: protocol ${version} does not allow JSON-RPC batches`, -32600);
      }
    }
    if (request.method === 'POST') jsonOnly = acceptsJsonOnly(request);
    const identity = identityFromHeaders(request.headers);
    (request.raw as RawRequest).auth = authInfoOf(identity);
    access.era = era;
    access.user = identity?.userId;
    access.rpc = Array.isArray(body) ? 'batch' : (body as { method?: unknown } | undefined)?.method;
    const policy = request.method === 'POST' ? options.policy : undefined;
    const verdict = policy?.decide(body, identity);
    // One audit line per call, once its answer is written (or the client went away).
    if (policy && verdict && verdict.calls.length > 0)
      reply.raw.once('close', () => policy.record(verdict, identity, era, receivedAt));
    if (verdict?.kind === 'step-up')
      return refuse(reply, 403, `Insufficient scope: this request needs ${verdict.missing.join(' ')}`, -32000, {
        'www-authenticate': verdict.challenge,
      });
    if (verdict?.kind === 'hidden')
      return void (await reply
        .code(200)
        .header('content-type', 'application/json')
        .send(JSON.stringify(verdict.answer)));
    await options.handle({ request, reply, body, identity, jsonOnly, era });
  };
  void fastify.register(async (instance) => {
    // The body arrives as text so that malformed JSON becomes a JSON-RPC -32700, not Fastify's error.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    instance.setErrorHandler((error: FastifyError, _request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) options.logger.error(`request failed: ${error.stack ?? String(error)}`);
      void refuse(reply, status, status === 500 ? 'Internal error' : error.message);
    });
    for (const url of [path, `${path}/`]) {
      instance.route({
        method: ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'],
        url,
        bodyLimit: options.maxBodyBytes,
        handler: handle,
      });
    }
  });
}

/** What the access line of one `/mcp` request says besides the HTTP exchange, filled in as it is learnt. */
interface AccessDetail {
  era?: 'legacy' | 'modern';
  user?: string | undefined;
  /** The JSON-RPC method (`batch` for a batch). */
  rpc?: unknown;
}

/**
 * One access line per `/mcp` request (`request completed`, or `request errored` for a 5xx, as pino-http words them)
 * with the MCP facts an operator looks for and no headers, so no credential can reach it. It replaces pino-http's
 * per-request child logger on this hot path (PlatformModule leaves `/mcp` out of it); the keys are flat because the
 * platform logger's `req`/`res` serializers expect Node's objects.
 */
function logAccess(
  logger: Logger,
  request: FastifyRequest,
  statusCode: number,
  receivedAt: number,
  detail: AccessDetail,
): void {
  const entry = {
    msg: statusCode >= 500 ? 'request errored' : 'request completed',
    reqId: request.id,
    method: request.method,
    url: request.url.split('?', 1)[0],
    statusCode,
    responseTime: Math.round(performance.now() - receivedAt),
    mcp: { era: detail.era, method: typeof detail.rpc === 'string' ? detail.rpc : undefined, user: detail.user },
  };
  if (statusCode >= 500) logger.error(entry);
  else logger.log(entry);
}

/** Hands the request to an SDK transport, which writes the response (JSON, SSE or a status). */
export async function serveTransport(
  transport: StreamableHTTPServerTransport,
  exchange: McpExchange,
  logger: Logger,
): Promise<void> {
  const { request, reply } = exchange;
  reply.hijack();
  try {
    // Synchronous up to the point where the SDK reads the flag, so concurrent requests cannot mix it up.
    setJsonResponses(transport, exchange.jsonOnly);
    await transport.handleRequest(request.raw, reply.raw, exchange.body);
  } catch (error) {
    logger.error(`MCP request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (!reply.raw.headersSent) {
      reply.raw.writeHead(500, { 'content-type': 'application/json' });
      reply.raw.end(JSON.stringify(jsonRpcError(-32603, 'Internal error')));
    }
  }
}

/** A refusal with a JSON-RPC error body (`id: null`). */
export async function refuse(
  reply: FastifyReply,
  status: number,
  message: string,
  code = -32000,
  headers: Record<string, string> = {},
): Promise<void> {
  await reply
    .code(status)
    .headers({ ...headers, 'content-type': 'application/json' })
    .send(jsonRpcError(code, message));
}

export function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The identity in the SDK's `AuthInfo` slot, so tools read it from `extra.authInfo` (see
 * `requestContextOf`). The token itself stays with the edge, which verified it: `token` is empty.
 */
function authInfoOf(identity: CallerIdentity | undefined): AuthInfo {
  return {
    token: '',
    clientId: identity?.clientId ?? '',
    scopes: identity?.scope?.split(' ').filter(Boolean) ?? [],
    extra: { identity, receivedAt: performance.now() },
  };
}

/**
 * basic/transports "Sending Messages": clients list both JSON and SSE in Accept. One that accepts
 * only JSON (or sends no Accept) gets a JSON answer instead of the SDK's 406.
 */
function acceptsJsonOnly(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  if (accept.includes('text/event-stream')) return false;
  if (accept !== '' && !accept.includes('application/json') && !accept.includes('*/*')) return false;
  // The SDK reads the Node headers (through @hono/node-server, both views): make them list both types.
  const both = 'application/json, text/event-stream';
  const raw = request.raw.rawHeaders.filter((_, index, all) => all[index - (index % 2)]?.toLowerCase() !== 'accept');
  request.raw.rawHeaders.splice(0, request.raw.rawHeaders.length, ...raw, 'Accept', both);
  request.raw.headers.accept = both;
  return true;
}

function jsonRpcError(code: number, message: string): object {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

/** `http(s)://localhost|127.0.0.1|[::1][:port]`, exactly an origin (no path, no credentials). */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) &&
      url.origin === origin
    );
  } catch {
    return false;
  }
}
