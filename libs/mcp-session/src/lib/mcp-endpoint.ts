import { createHash, randomUUID } from 'node:crypto';
import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { CallerIdentity } from '@gateway/contracts';
import type { GatewayTopology } from '@gateway/catalog';
import { gauge } from '@gateway/platform';
import type { KeyValueStore } from '@gateway/storage';
import {
  type AuthInfo,
  createMcpHandler,
  type InitializeRequest,
  isInitializeRequest,
  LATEST_PROTOCOL_VERSION,
  type McpHttpHandler,
  type McpServer,
  SUPPORTED_PROTOCOL_VERSIONS,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { FastifyInstance } from 'fastify';
import { guardExchange, type JsonRpcId, jsonRpcErrorFor, requestIdsOf, withStreamingHeaders } from './exchange-guard';
import { headerOf, type McpExchange, registerMcpRoute } from './mcp-route';
import { replayInitialize } from './sdk-session';
import { type SessionRecord, SessionStore } from './session-store';
import { filterListResponse, type ToolPolicy } from './tool-policy';
import { serveWeb } from './web-exchange';

/** Every endpoint of this process, for the sessions gauge (read at scrape time). */
const endpoints = new Set<{ name: string; live: ReadonlyMap<string, unknown> }>();
gauge('mcp_sessions_active', 'MCP sessions held by this process', ['endpoint'], function collect() {
  this.reset();
  for (const endpoint of endpoints) this.inc({ endpoint: endpoint.name }, endpoint.live.size);
});

/** What a server factory is given: who calls, and (stateful mode) the session. */
export interface McpServerContext {
  /** The caller from the edge's identity headers; `undefined` when the service runs without the edge. */
  readonly identity: CallerIdentity | undefined;
  /**
   * Stateful mode only. 2025 era: the `Mcp-Session-Id` session. 2026-07-28 (no sessions): the caller's own
   * per-user state, one per user and service, with the same idle timeout (`id` starts with `user-`).
   */
  readonly session: McpSession | undefined;
  /** `modern`: MCP 2026-07-28 (one server per request); `legacy`: the 2025 era. */
  readonly era: 'legacy' | 'modern';
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
  /** Development only: also allow browser origins on localhost, any port (the Inspector UI; mcp-route.ts). */
  readonly localhostOrigins?: boolean;
  /** The deployment's catalog: its public origins are allowed too (mcp-route.ts). */
  readonly topology?: GatewayTopology | undefined;
  readonly maxBodyBytes: number;
  /** Stateful mode: idle timeout in seconds and the store of session records. */
  readonly idleSeconds?: number;
  readonly store?: KeyValueStore;
  /** Default `/mcp`; `/mcp/` is served too. */
  readonly path?: string;
  /** Server-side bound of one POST in milliseconds: unanswered requests then get a JSON-RPC error. */
  readonly requestTimeoutMs?: number;
  /** SSE comment keepalive on open event streams, in milliseconds (0: none). */
  readonly keepAliveMs?: number;
  /** Per-tool authorization and audit (docs/authorization.md). */
  readonly policy?: ToolPolicy | undefined;
}

interface LiveSession {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: McpServer;
  /** JSON-RPC ids of this session's requests in progress on this replica. */
  readonly inFlight: Set<string>;
  lastSeen: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
const DEFAULT_KEEPALIVE_MS = 15_000;
/** basic/transports (2026-07-28): the revisions served without sessions. */
const MODERN_VERSIONS = new Set(['2026-07-28']);

/**
 * `/mcp` per MCP basic/transports (Streamable HTTP) in both eras, on the official SDK v2
 * (`@modelcontextprotocol/server`): 2026-07-28 requests (per-request `_meta` envelope, no session) go to the
 * SDK's `createMcpHandler` in strict mode; 2025-era requests to the SDK's web-standard transport, stateless
 * or in sessions this class keeps in storage. Around both it adds what a gateway service needs: the Origin
 * allow-list, JSON-RPC error bodies for every refusal, sessions bound to the caller and rebuilt on any
 * replica, idle expiry, refusal of a request id already in flight, and a server-side bound on every POST.
 */
export class McpEndpoint implements OnModuleInit, OnModuleDestroy {
  private readonly logger: Logger;
  private readonly sessions: SessionStore | undefined;
  private readonly live = new Map<string, LiveSession>();
  private readonly reviving = new Map<string, Promise<LiveSession>>();
  private readonly modern: McpHttpHandler;
  private readonly timeoutMs: number;
  private readonly keepAliveMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  public constructor(
    private readonly config: McpEndpointConfig,
    private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.logger = new Logger(`Mcp:${config.name}`);
    if (config.mode === 'stateful') {
      if (!config.store || !config.idleSeconds)
        throw new Error('stateful MCP needs a KeyValueStore and an idle timeout');
      this.sessions = new SessionStore(config.store, config.name, config.idleSeconds);
      endpoints.add({ name: config.name, live: this.live });
    }
    this.timeoutMs = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.keepAliveMs = config.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    // One server definition for both eras: the same factory backs this handler and the 2025 transports.
    this.modern = createMcpHandler(
      async (context) => {
        const stamped = stampOf(context.authInfo);
        const session = this.sessions ? await this.userSession(this.sessions, stamped.identity) : undefined;
        return this.config.server({ identity: stamped.identity, session, era: 'modern' });
      },
      {
        legacy: 'reject',
        keepAliveMs: this.keepAliveMs,
        maxRequestBodySize: config.maxBodyBytes,
        onerror: (error) => this.logger.debug(`modern: ${error.message}`),
      },
    );
  }

  public onModuleInit(): void {
    if (this.adapterHost) this.register(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }

  public async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /** Adds the `/mcp` routes. */
  public register(fastify: FastifyInstance): void {
    registerMcpRoute(fastify, {
      path: this.config.path,
      allowedOrigins: this.config.allowedOrigins,
      localhostOrigins: this.config.localhostOrigins ?? false,
      topology: this.config.topology,
      maxBodyBytes: this.config.maxBodyBytes,
      logger: this.logger,
      policy: this.config.policy,
      handle: (exchange) => this.handle(exchange),
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
    await Promise.allSettled([this.modern.close(), ...sessions.map((session) => session.server.close())]);
  }

  private handle(exchange: McpExchange): Promise<void> {
    return serveWeb(exchange, (web, authInfo, abort) => this.dispatch(exchange, web, authInfo, abort), this.logger);
  }

  /** `abort` ends the exchange: `web.signal` fires, and the SDK stops the work behind it. */
  private async dispatch(
    exchange: McpExchange,
    web: Request,
    authInfo: AuthInfo | undefined,
    abort: () => void,
  ): Promise<Response> {
    const method = exchange.request.method;
    const version = headerOf(exchange.request, 'mcp-protocol-version');
    // 2026-07-28 basic/transports: no server-to-client stream and no session to end, so GET and DELETE get 405.
    if (method !== 'POST' && version !== undefined && MODERN_VERSIONS.has(version))
      return refusal(405, 'Method not allowed: MCP 2026-07-28 uses POST only', -32000, { allow: 'POST' });
    if (exchange.era === 'modern') {
      if (method !== 'POST') return refusal(405, 'Method not allowed', -32000, { allow: 'POST' });
      const response = await this.bounded(exchange, abort, undefined, () =>
        this.modern.fetch(web, { authInfo, parsedBody: exchange.body }),
      );
      const listed = (exchange.body as { method?: unknown } | undefined)?.method;
      return this.config.policy && typeof listed === 'string'
        ? filterListResponse(response, this.config.policy, listed, exchange.identity)
        : response;
    }
    return this.sessions
      ? this.stateful(this.sessions, exchange, web, authInfo, abort)
      : this.stateless(exchange, web, authInfo, abort);
  }

  /**
   * A POST bounded in time (`abort` ends the exchange when the bound passes), with its in-flight ids held by
   * `live` (if any) until answered; `settled` runs once every request of it was answered or abandoned.
   */
  private async bounded(
    exchange: McpExchange,
    abort: () => void,
    live: LiveSession | undefined,
    produce: () => Promise<Response>,
    settled?: () => void,
  ): Promise<Response> {
    if (exchange.request.method !== 'POST') return withStreamingHeaders(await produce());
    const ids = requestIdsOf(exchange.body);
    const keys = ids.map((id) => JSON.stringify(id));
    if (live) {
      // JSON-RPC 2.0 §4 and MCP basic (2025-11-25) "Requests": an id MUST NOT be reused within a session;
      // one in progress would cross the two requests' answers, so the second is refused on its own stream.
      const reused = ids.filter((_, index) => live.inFlight.has(keys[index] as string));
      if (reused.length > 0) {
        const errors = ids.map((id) =>
          jsonRpcErrorFor(
            id,
            -32600,
            `Invalid Request: id ${reused.map((value) => JSON.stringify(value)).join(', ')} is already in use by a request in progress`,
          ),
        );
        return Response.json(Array.isArray(exchange.body) ? errors : errors[0], { status: 200 });
      }
      for (const key of keys) live.inFlight.add(key);
    }
    return guardExchange(produce, {
      ids,
      batch: Array.isArray(exchange.body),
      jsonOnly: exchange.jsonOnly,
      timeoutMs: this.timeoutMs,
      abort: () => {
        abort();
        if (live) cancelInSession(live, ids);
      },
      settled: () => {
        if (live) for (const key of keys) live.inFlight.delete(key);
        settled?.();
      },
    });
  }

  private async stateless(
    exchange: McpExchange,
    web: Request,
    authInfo: AuthInfo | undefined,
    abort: () => void,
  ): Promise<Response> {
    // basic/transports "Listening for Messages": a server without a server-to-client stream answers GET with 405.
    if (exchange.request.method !== 'POST')
      return refusal(405, 'Method not allowed: this server is stateless, use POST', -32000, { allow: 'POST' });
    const server = this.config.server({ identity: exchange.identity, session: undefined, era: 'legacy' });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: exchange.jsonOnly,
      keepAliveMs: this.keepAliveMs,
      maxRequestBodySize: this.config.maxBodyBytes,
    });
    transport.onerror = (error) => this.logger.debug(`transport: ${error.message}`);
    await server.connect(transport);
    this.config.policy?.filterListsOn(transport);
    // The per-request server is closed once its answer is complete (or abandoned): the guard knows when.
    return this.bounded(
      exchange,
      abort,
      undefined,
      () => transport.handleRequest(web, { authInfo, parsedBody: exchange.body }),
      () => void server.close(),
    );
  }

  private async stateful(
    sessions: SessionStore,
    exchange: McpExchange,
    web: Request,
    authInfo: AuthInfo | undefined,
    abort: () => void,
  ): Promise<Response> {
    const { request, body, identity } = exchange;
    const sessionId = headerOf(request, 'mcp-session-id');
    const userId = identity?.userId ?? null;
    if (sessionId === undefined) {
      if (request.method === 'POST' && isInitializeRequest(body)) {
        const record = newRecord(body, userId);
        try {
          await sessions.save(record);
        } catch (error) {
          // A storage failure is ours, not the client's: 503 with a generic JSON-RPC error (RFC 9110 §15.6.4);
          // the cause goes to the log only.
          this.logger.error(`session store unavailable: ${error instanceof Error ? error.message : String(error)}`);
          return Response.json(
            jsonRpcErrorFor(requestIdsOf(body)[0] ?? null, -32603, 'Service temporarily unavailable, retry later'),
            {
              status: 503,
              headers: { 'retry-after': '2' },
            },
          );
        }
        const live = await this.connect(record, identity, false);
        return this.bounded(exchange, abort, live, () =>
          live.transport.handleRequest(web, { authInfo, parsedBody: body }),
        );
      }
      // basic/transports "Session Management": a request without the session id gets 400.
      return refusal(400, 'Bad Request: Mcp-Session-Id header is required');
    }
    const record = await sessions.load(sessionId);
    // basic/transports: an unknown or terminated session gets 404. Another user's session is
    // indistinguishable from an unknown one, so its existence does not leak.
    if (!record || record.userId !== userId) {
      if (!record) await this.forget(sessionId);
      return refusal(404, 'Session not found', -32001);
    }
    await sessions.touch(record);
    const live = this.live.get(sessionId) ?? (await this.revive(record, identity));
    live.lastSeen = Date.now();
    return this.bounded(exchange, abort, live, () => live.transport.handleRequest(web, { authInfo, parsedBody: body }));
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

  private async connect(
    record: SessionRecord,
    identity: CallerIdentity | undefined,
    revived: boolean,
  ): Promise<LiveSession> {
    const sessions = this.sessions as SessionStore;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => record.id,
      keepAliveMs: this.keepAliveMs,
      maxRequestBodySize: this.config.maxBodyBytes,
      onsessionclosed: () => sessions.remove(record),
    });
    const server = this.config.server({ identity, session: this.handleOf(sessions, record), era: 'legacy' });
    const live: LiveSession = { transport, server, inFlight: new Set(), lastSeen: Date.now() };
    transport.onerror = (error) => this.logger.debug(`transport: ${error.message}`);
    transport.onclose = () => {
      if (this.live.get(record.id)?.transport === transport) this.live.delete(record.id);
    };
    await server.connect(transport);
    this.config.policy?.filterListsOn(transport);
    // The SDK has no public way to adopt a session another process initialized; replaying the stored
    // handshake through the public transport API rebuilds the same state (session id, client capabilities).
    if (revived) await replayInitialize(transport, record);
    this.live.set(record.id, live);
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

  /**
   * 2026-07-28 has no sessions: a stateful service keeps its state per user instead (one record per user and
   * service, same store, same idle timeout), so both eras of one user see their own state and nobody else's.
   */
  private async userSession(sessions: SessionStore, identity: CallerIdentity | undefined): Promise<McpSession> {
    const userId = identity?.userId ?? null;
    const id = `user-${createHash('sha256')
      .update(userId ?? '')
      .digest('hex')
      .slice(0, 32)}`;
    const existing = await sessions.load(id);
    if (existing && existing.userId === userId) await sessions.touch(existing);
    else {
      const now = new Date().toISOString();
      await sessions.save({
        id,
        userId,
        protocolVersion: '2026-07-28',
        clientInfo: identity?.clientId ? { name: identity.clientId, version: '-' } : null,
        clientCapabilities: {},
        createdAt: now,
        lastActivityAt: now,
        data: {},
      });
    }
    return this.handleOf(sessions, { id, userId } as SessionRecord);
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
      if (live.lastSeen < limit && live.inFlight.size === 0) void this.forget(id);
    }
  }
}

/** The identity and arrival time `registerMcpRoute` stamped into `AuthInfo.extra`. */
function stampOf(authInfo: AuthInfo | undefined): { identity: CallerIdentity | undefined } {
  const extra = authInfo?.extra as { identity?: CallerIdentity } | undefined;
  return { identity: extra?.identity };
}

/**
 * Stops session work whose answer is no longer wanted: the same `notifications/cancelled` a client would
 * send (basic/utilities/cancellation), delivered through the transport's public message callback.
 */
function cancelInSession(live: LiveSession, ids: readonly JsonRpcId[]): void {
  for (const requestId of ids) {
    live.transport.onmessage?.({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId, reason: 'timed out on the server' },
    });
  }
}

/** A refusal with a JSON-RPC error body (`id: null`). */
function refusal(status: number, message: string, code = -32000, headers: Record<string, string> = {}): Response {
  return Response.json(jsonRpcErrorFor(null, code, message), { status, headers });
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
