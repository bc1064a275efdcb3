import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { type CallerIdentity, identityFromHeaders } from '@gateway/contracts';
import type { KeyValueStore } from '@gateway/storage';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  type InitializeRequest,
  isInitializeRequest,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { reviveSession, setJsonResponses } from './sdk-session';
import { type SessionRecord, SessionStore } from './session-store';

/** What a server factory is given: who calls, and (stateful mode) the session. */
export interface McpServerContext {
  /** The caller from the edge's identity headers; `undefined` when the service runs without the edge. */
  readonly identity: CallerIdentity | undefined;
  /** Stateful mode only. */
  readonly session: McpSession | undefined;
}

/** A stateful session as a server sees it. Its state lives in storage, so every replica sees the same. */
export interface McpSession {
  readonly id: string;
  /** The stored record, freshly read (`null` once the session ended). */
  record(): Promise<SessionRecord | null>;
  /** Stores a small JSON value with the session (read it back from `record().data`). */
  setData(name: string, value: unknown): Promise<void>;
  /** The live sessions of this session's user (never another user's). */
  listOwn(): Promise<SessionRecord[]>;
}

/** Builds the MCP server for one session (stateful) or one request (stateless). */
export type McpServerFactory = (context: McpServerContext) => McpServer;

export interface McpEndpointConfig {
  /** Service name: storage keys and logs. */
  readonly name: string;
  readonly mode: 'stateless' | 'stateful';
  readonly server: McpServerFactory;
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /** Stateful mode: idle timeout in seconds and the store of session records. */
  readonly idleSeconds?: number;
  readonly store?: KeyValueStore;
  /** Default `/mcp`; `/mcp/` is served too. */
  readonly path?: string;
}

interface LiveSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: McpServer;
  lastSeen: number;
}

type RawRequest = IncomingMessage & { auth?: AuthInfo };

/**
 * `/mcp` per MCP 2025-11-25 basic/transports (Streamable HTTP). The SDK transport speaks the protocol;
 * this class adds what a gateway service needs around it: the Origin allow-list, JSON-RPC error
 * bodies for every refusal, sessions kept in storage and bound to the caller, and idle expiry.
 */
export class McpEndpoint implements OnModuleInit, OnModuleDestroy {
  private readonly logger: Logger;
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly sessions: SessionStore | undefined;
  private readonly live = new Map<string, LiveSession>();
  private readonly reviving = new Map<string, Promise<LiveSession>>();
  private sweeper: NodeJS.Timeout | undefined;

  public constructor(
    private readonly config: McpEndpointConfig,
    private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.logger = new Logger(`Mcp:${config.name}`);
    this.allowedOrigins = new Set(config.allowedOrigins);
    if (config.mode === 'stateful') {
      if (!config.store || !config.idleSeconds) throw new Error('stateful MCP needs a KeyValueStore and an idle timeout');
      this.sessions = new SessionStore(config.store, config.name, config.idleSeconds);
    }
  }

  public onModuleInit(): void {
    if (this.adapterHost) this.register(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }

  public async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /** Adds the `/mcp` routes (an encapsulated plugin: its body parser and error handler stay local). */
  public register(fastify: FastifyInstance): void {
    const path = this.config.path ?? '/mcp';
    void fastify.register(async (instance) => {
      // The body arrives as text so that malformed JSON becomes a JSON-RPC -32700, not Fastify's error.
      instance.removeAllContentTypeParsers();
      instance.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
      instance.setErrorHandler((error: FastifyError, _request, reply) => {
        const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
        if (status === 500) this.logger.error(`request failed: ${error.stack ?? String(error)}`);
        void refuse(reply, status, status === 500 ? 'Internal error' : error.message);
      });
      for (const url of [path, `${path}/`]) {
        instance.route({
          method: ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'],
          url,
          bodyLimit: this.config.maxBodyBytes,
          handler: (request, reply) => this.handle(request, reply),
        });
      }
    });
    if (this.sessions) {
      const every = Math.min(this.config.idleSeconds ?? 60, 60) * 1000;
      this.sweeper = setInterval(() => this.sweep(), every).unref();
    }
  }

  /** Ends every session this process holds (their records stay, so another replica can go on). */
  public async close(): Promise<void> {
    clearInterval(this.sweeper);
    const sessions = [...this.live.values()];
    this.live.clear();
    await Promise.allSettled(sessions.map((session) => session.server.close()));
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin;
    // MCP 2025-11-25 basic/transports: servers MUST validate Origin; an invalid one gets 403.
    if (origin !== undefined && !this.allowedOrigins.has(origin)) {
      return refuse(reply, 403, `Origin ${origin} is not allowed`);
    }
    const version = headerOf(request, 'mcp-protocol-version');
    // basic/transports "Protocol Version Header": an unsupported version gets 400.
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return refuse(reply, 400, `Unsupported MCP-Protocol-Version ${version}; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
    }
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
      jsonOnly = acceptsJsonOnly(request);
    }
    const identity = identityFromHeaders(request.headers);
    (request.raw as RawRequest).auth = authInfoOf(identity);
    if (this.sessions) return this.stateful(this.sessions, request, reply, body, identity, jsonOnly);
    return this.stateless(request, reply, body, identity, jsonOnly);
  }

  private async stateless(
    request: FastifyRequest,
    reply: FastifyReply,
    body: unknown,
    identity: CallerIdentity | undefined,
    jsonOnly: boolean,
  ): Promise<void> {
    // basic/transports "Listening for Messages": a server without a server-to-client stream answers GET with 405.
    if (request.method !== 'POST') return refuse(reply, 405, 'Method not allowed: this server is stateless, use POST', -32000, 'POST');
    const server = this.config.server({ identity, session: undefined });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    transport.onerror = (error) => this.logger.debug(`transport: ${error.message}`);
    reply.raw.on('close', () => void server.close());
    await server.connect(transport);
    await this.serve(transport, request, reply, body, jsonOnly);
  }

  private async stateful(
    sessions: SessionStore,
    request: FastifyRequest,
    reply: FastifyReply,
    body: unknown,
    identity: CallerIdentity | undefined,
    jsonOnly: boolean,
  ): Promise<void> {
    const sessionId = headerOf(request, 'mcp-session-id');
    const userId = identity?.userId ?? null;
    if (sessionId === undefined) {
      if (request.method === 'POST' && isInitializeRequest(body)) {
        const live = await this.connect(newRecord(body, userId), identity, false);
        return this.serve(live.transport, request, reply, body, jsonOnly);
      }
      // basic/transports "Session Management": a request without the session id gets 400.
      return refuse(reply, 400, 'Bad Request: Mcp-Session-Id header is required');
    }
    const record = await sessions.load(sessionId);
    // basic/transports: an unknown or terminated session gets 404. Another user's session is
    // indistinguishable from an unknown one, so its existence does not leak.
    if (!record || record.userId !== userId) {
      if (!record) await this.forget(sessionId);
      return refuse(reply, 404, 'Session not found', -32001);
    }
    await sessions.touch(record);
    const live = this.live.get(sessionId) ?? (await this.revive(record, identity));
    live.lastSeen = Date.now();
    await this.serve(live.transport, request, reply, body, jsonOnly);
  }

  /** A session this process does not hold (another replica created it, or this one restarted). */
  private revive(record: SessionRecord, identity: CallerIdentity | undefined): Promise<LiveSession> {
    let pending = this.reviving.get(record.id);
    if (!pending) {
      pending = this.connect(record, identity, true).finally(() => this.reviving.delete(record.id));
      this.reviving.set(record.id, pending);
    }
    return pending;
  }

  private async connect(record: SessionRecord, identity: CallerIdentity | undefined, revived: boolean): Promise<LiveSession> {
    const sessions = this.sessions as SessionStore;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => record.id,
      onsessioninitialized: async () => {
        await sessions.save(record);
        this.live.set(record.id, live);
      },
      onsessionclosed: () => sessions.remove(record),
    });
    const server = this.config.server({ identity, session: this.handleOf(sessions, record) });
    const live: LiveSession = { transport, server, lastSeen: Date.now() };
    transport.onerror = (error) => this.logger.debug(`transport: ${error.message}`);
    transport.onclose = () => {
      if (this.live.get(record.id)?.transport === transport) this.live.delete(record.id);
    };
    if (revived) reviveSession(transport, server, record);
    await server.connect(transport);
    if (revived) this.live.set(record.id, live);
    return live;
  }

  private handleOf(sessions: SessionStore, record: SessionRecord): McpSession {
    return {
      id: record.id,
      record: () => sessions.load(record.id),
      setData: (name, value) => sessions.setData(record.id, name, value),
      listOwn: () => sessions.listForUser(record.userId),
    };
  }

  private async serve(
    transport: StreamableHTTPServerTransport,
    request: FastifyRequest,
    reply: FastifyReply,
    body: unknown,
    jsonOnly: boolean,
  ): Promise<void> {
    reply.hijack();
    try {
      // Synchronous up to the point where the SDK reads the flag, so concurrent requests cannot mix it up.
      setJsonResponses(transport, jsonOnly);
      await transport.handleRequest(request.raw, reply.raw, body);
    } catch (error) {
      this.logger.error(`MCP request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify(jsonRpcError(-32603, 'Internal error')));
      }
    }
  }

  private async forget(sessionId: string): Promise<void> {
    const live = this.live.get(sessionId);
    this.live.delete(sessionId);
    await live?.server.close();
  }

  /** Frees sessions idle here for longer than the timeout (storage expires its record by TTL). */
  private sweep(): void {
    const limit = Date.now() - (this.config.idleSeconds ?? 0) * 1000;
    for (const [id, live] of this.live) {
      if (live.lastSeen < limit) void this.forget(id);
    }
  }
}

function newRecord(init: InitializeRequest, userId: string | null): SessionRecord {
  const requested = init.params.protocolVersion;
  const now = new Date().toISOString();
  const clientInfo = init.params.clientInfo;
  return {
    id: randomUUID(),
    userId,
    // lifecycle "Version Negotiation": an unsupported request gets the latest version we support.
    protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
    clientInfo: clientInfo ? { name: String(clientInfo.name), version: String(clientInfo.version) } : null,
    clientCapabilities: (init.params.capabilities ?? {}) as Record<string, unknown>,
    createdAt: now,
    lastActivityAt: now,
    data: {},
  };
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

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function jsonRpcError(code: number, message: string): object {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

async function refuse(reply: FastifyReply, status: number, message: string, code = -32000, allow?: string): Promise<void> {
  if (allow) void reply.header('allow', allow);
  await reply.code(status).header('content-type', 'application/json').send(jsonRpcError(code, message));
}
