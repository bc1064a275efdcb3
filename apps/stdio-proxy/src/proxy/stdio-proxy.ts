import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { headerOf, type McpExchange, refuse, registerMcpRoute, serveTransport } from '@gateway/mcp-session';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { StdioProxyEnv } from '../stdio-proxy.env';
import { type ChildCommand, resolveChildCommand } from './child-command';
import { ChildSandbox } from './child-sandbox';
import { ModernBridge } from './modern-bridge';
import { ProxySession } from './proxy-session';
import { SharedChild, SharedSession } from './shared-child';

/** Seconds a client is told to wait when the child limits are reached. */
const RETRY_AFTER_SECONDS = 30;

/**
 * `/mcp` of the stdio proxy: the mcp-session route checks (Origin, versions, JSON, 4xx with JSON-RPC
 * bodies), then one child process per session (or per user, STDIO_CHILD_PER=user), each session bound
 * to the user who opened it. Sessions live in this process (a child cannot move), so replicas need
 * sticky routing by `Mcp-Session-Id`.
 */
@Injectable()
export class StdioProxy implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('StdioProxy');
  private readonly sessions = new Map<string, ProxySession | SharedSession>();
  /** STDIO_CHILD_PER=user: the child of each user (key: user id, '' without the edge). */
  private readonly shared = new Map<string, SharedChild>();
  private readonly command: ChildCommand;
  /** MCP 2026-07-28 traffic: one child per user (no sessions in that revision). */
  private readonly modern: ModernBridge;
  private sweeper: NodeJS.Timeout | undefined;
  private sandbox: ChildSandbox | undefined;

  public constructor(
    private readonly env: StdioProxyEnv,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.command = resolveChildCommand(env, null);
    this.modern = new ModernBridge(
      this.command.label,
      (userKey) => this.commandFor(userKey || null),
      this.logger,
      env.MCP_SESSION_IDLE_TIMEOUT,
    );
  }

  /** The child of `userId`: its own data directories, in its network sandbox (child-command.ts, child-sandbox.ts). */
  private commandFor(userId: string | null): ChildCommand {
    const command = resolveChildCommand(this.env, userId);
    return this.sandbox ? this.sandbox.wrap(command) : command;
  }

  public async onModuleInit(): Promise<void> {
    this.sandbox = await ChildSandbox.start(this.env, this.command.egress, this.logger);
    registerMcpRoute(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      allowedOrigins: this.env.MCP_ALLOWED_ORIGINS,
      topology: this.env.topology,
      maxBodyBytes: this.env.MCP_MAX_BODY_BYTES,
      logger: this.logger,
      handle: (exchange) => this.handle(exchange),
    });
    const every = Math.min(this.env.MCP_SESSION_IDLE_TIMEOUT, 60) * 1000;
    this.sweeper = setInterval(() => this.sweep(), every).unref();
    this.logger.log(`wrapping ${this.command.label}: ${this.command.command} ${this.command.args.join(' ')}`);
  }

  /** SIGTERM: every child is stopped (stdin closed, then SIGTERM, then SIGKILL) before the process exits. */
  public async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled([this.modern.close(), ...sessions.map((session) => session.close())]);
    await this.sandbox?.close();
  }

  private async handle(exchange: McpExchange): Promise<void> {
    if (exchange.era === 'modern') return this.modern.handle(exchange);
    // basic/transports (2026-07-28): no server-to-client stream and no session to end.
    if (exchange.request.method !== 'POST' && headerOf(exchange.request, 'mcp-protocol-version') === '2026-07-28')
      return refuse(exchange.reply, 405, 'Method not allowed: MCP 2026-07-28 uses POST only', -32000, {
        allow: 'POST',
      });
    const { request, reply, body, identity } = exchange;
    const userId = identity?.userId ?? null;
    const sessionId = headerOf(request, 'mcp-session-id');
    if (sessionId === undefined) {
      if (request.method === 'POST' && isInitializeRequest(body)) return this.open(exchange, userId);
      // basic/transports "Session Management": a request without the session id gets 400.
      return refuse(reply, 400, 'Bad Request: Mcp-Session-Id header is required');
    }
    const session = this.sessions.get(sessionId);
    // An unknown, ended (child exited, idle, DELETE) or another user's session: 404, so the client re-initializes.
    if (!session || session.userId !== userId) return refuse(reply, 404, 'Session not found', -32001);
    session.lastSeen = Date.now();
    await serveTransport(session.http, exchange, this.logger);
  }

  private async open(exchange: McpExchange, userId: string | null): Promise<void> {
    const owned = [...this.sessions.values()].filter((session) => session.userId === userId).length;
    const perUser = this.env.STDIO_CHILD_PER === 'user';
    const existing = perUser ? this.shared.get(userId ?? '') : undefined;
    const running = [...this.shared.values()].filter((child) => !child.closed).length;
    const children = perUser ? running + (existing && !existing.closed ? 0 : 1) : this.sessions.size + 1;
    if (children > this.env.STDIO_MAX_CHILDREN || owned >= this.env.STDIO_MAX_CHILDREN_PER_USER) {
      const which =
        children > this.env.STDIO_MAX_CHILDREN
          ? 'the proxy runs its maximum of child processes'
          : 'you have the maximum number of sessions';
      return refuse(exchange.reply, 503, `Server busy: ${which}; end a session (DELETE) or retry later`, -32000, {
        'retry-after': String(RETRY_AFTER_SECONDS),
      });
    }
    const id = randomUUID();
    const session: ProxySession | SharedSession = perUser
      ? new SharedSession(id, userId, this.sharedChildOf(userId), this.logger, () => this.forget(session))
      : new ProxySession(id, userId, this.commandFor(userId), this.logger, () => this.forget(session));
    this.sessions.set(id, session); // counted against the limits from now on
    try {
      await session.start();
    } catch (error) {
      this.forget(session);
      this.logger.error(`cannot start ${this.command.label}: ${String(error)}`);
      return refuse(exchange.reply, 503, 'The wrapped MCP server could not be started', -32000, {
        'retry-after': String(RETRY_AFTER_SECONDS),
      });
    }
    await serveTransport(session.http, exchange, this.logger);
    if (session.http.sessionId === undefined) {
      // The transport refused the initialize (e.g. 406): no session, so no child either.
      this.forget(session);
      await session.close();
    }
  }

  private sharedChildOf(userId: string | null): SharedChild {
    const key = userId ?? '';
    let child = this.shared.get(key);
    if (!child || child.closed) {
      const created = new SharedChild(
        `${this.command.label}/${key || 'anonymous'}`,
        this.commandFor(userId),
        this.logger,
        () => {
          if (this.shared.get(key) === created) this.shared.delete(key);
        },
      );
      this.shared.set(key, created);
      child = created;
    }
    return child;
  }

  private forget(session: ProxySession | SharedSession): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
  }

  private sweep(): void {
    const limit = Date.now() - this.env.MCP_SESSION_IDLE_TIMEOUT * 1000;
    for (const [id, session] of this.sessions) {
      if (session.lastSeen >= limit) continue;
      this.logger.log(`session ${id.slice(0, 8)} idle, stopping its child`);
      this.sessions.delete(id);
      void session.close();
    }
  }
}
