import { randomUUID } from 'node:crypto';
import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { CallerIdentity } from '@gateway/contracts';
import type { GatewayTopology } from '@gateway/catalog';
import type { KeyValueStore } from '@gateway/storage';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  type InitializeRequest,
  isInitializeRequest,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { headerOf, type McpExchange, refuse, registerMcpRoute, serveTransport } from './mcp-route';
import { reviveSession } from './sdk-session';
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
}

interface LiveSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: McpServer;
  lastSeen: number;
}

/**
 * `/mcp` per MCP 2025-11-25 basic/transports (Streamable HTTP). The SDK transport speaks the protocol;
 * this class adds what a gateway service needs around it: the Origin allow-list, JSON-RPC error
 * bodies for every refusal, sessions kept in storage and bound to the caller, and idle expiry.
 */
export class McpEndpoint implements OnModuleInit, OnModuleDestroy {
  private readonly logger: Logger;
  private readonly sessions: SessionStore | undefined;
  private readonly live = new Map<string, LiveSession>();
  private readonly reviving = new Map<string, Promise<LiveSession>>();
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
    }
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
      handle: (exchange) => (this.sessions ? this.stateful(this.sessions, exchange) : this.stateless(exchange)),
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

  private async stateless(exchange: McpExchange): Promise<void> {
    const { request, reply, identity } = exchange;
    // basic/transports "Listening for Messages": a server without a server-to-client stream answers GET with 405.
    if (request.method !== 'POST')
      return refuse(reply, 405, 'Method not allowed: this server is stateless, use POST', -32000, { allow: 'POST' });
    const server = this.config.server({ identity, session: undefined });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    transport.onerror = (error) => this.logger.debug(`transport: ${error.message}`);
    reply.raw.on('close', () => void server.close());
    await server.connect(transport);
    await serveTransport(transport, exchange, this.logger);
  }

  private async stateful(sessions: SessionStore, exchange: McpExchange): Promise<void> {
    const { request, reply, body, identity } = exchange;
    const sessionId = headerOf(request, 'mcp-session-id');
    const userId = identity?.userId ?? null;
    if (sessionId === undefined) {
      if (request.method === 'POST' && isInitializeRequest(body)) {
        const live = await this.connect(newRecord(body, userId), identity, false);
        return serveTransport(live.transport, exchange, this.logger);
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
    await serveTransport(live.transport, exchange, this.logger);
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
