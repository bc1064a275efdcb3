import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import {
  headerOf,
  type McpExchange,
  refuse,
  registerMcpRoute,
  serveTransport,
  type ToolPolicy,
  toolPolicyFor,
} from '@gateway/mcp-session';
import { gauge } from '@gateway/platform';
import { KeyValueStore, StorageUnavailableError } from '@gateway/storage';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { StdioProxyEnv } from '../stdio-proxy.env';
import { type ChildCommand, childDirsRemoved, resolveChildCommand } from './child-command';
import { ChildSandbox } from './child-sandbox';
import { MemoryMeter } from './memory-meter';
import { ModernBridge } from './modern-bridge';
import type { Claim } from './owner-registry';
import { Peering } from './peering';
import { type PooledSession, ProxySession } from './proxy-session';
import { duplicateIdOf } from './request-deadlines';
import { SharedChild, SharedSession } from './shared-child';

/** Seconds a client is told to wait when the child limits are reached. */
const RETRY_AFTER_SECONDS = 30;
const MB = 1024 * 1024;

/**
 * `/mcp` of the stdio proxy: the mcp-session route checks (Origin, versions, JSON, 4xx with JSON-RPC
 * bodies), then one child process per session (or per user, STDIO_CHILD_PER=user), each session bound
 * to the user who opened it. A child cannot move: with replicas (STDIO_PEER_URL), a request for a session or
 * user whose children live in another replica is forwarded there (peering.ts). Capacity: children in total,
 * sessions per user, and the children's sampled memory (docs/stdio-proxy.md "Capacity").
 */
@Injectable()
export class StdioProxy implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('StdioProxy');
  private readonly sessions = new Map<string, PooledSession>();
  /** STDIO_CHILD_PER=user: the child of each user (key: user id, '' without the edge). */
  private readonly shared = new Map<string, SharedChild>();
  private readonly command: ChildCommand;
  /** MCP 2026-07-28 traffic: one child per user (no sessions in that revision). */
  private readonly modern: ModernBridge;
  private readonly perUser: boolean;
  private readonly memory = new MemoryMeter();
  private sweeper: NodeJS.Timeout | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private sandbox: ChildSandbox | undefined;
  /** The other replicas of this service (STDIO_PEER_URL); undefined for a single replica. */
  private peering: Peering | undefined;
  /** The wrapped catalog service's per-tool policy (none for a custom STDIO_COMMAND). */
  private readonly policy: ToolPolicy | undefined;

  public constructor(
    private readonly env: StdioProxyEnv,
    private readonly adapterHost: HttpAdapterHost,
    private readonly store: KeyValueStore,
  ) {
    this.command = resolveChildCommand(env, null);
    this.perUser = env.STDIO_CHILD_PER === 'user' || (env.STDIO_CHILD_PER === '' && this.command.shareable);
    this.policy = env.MCP_SERVICE ? toolPolicyFor(env, env.MCP_SERVICE) : undefined;
    this.modern = new ModernBridge(
      this.command.label,
      (userKey) => this.commandFor(userKey || null),
      this.logger,
      env.MCP_SESSION_IDLE_TIMEOUT,
      this.policy,
    );
    const pids = () => this.childPids();
    gauge('stdio_children', 'stdio child processes running', [], function collect() {
      this.set(pids().length);
    });
    gauge('stdio_children_rss_bytes', 'resident memory of all stdio children (Linux /proc)', [], function collect() {
      this.set(pids().reduce((sum, pid) => sum + rssOf(pid), 0));
    });
  }

  /** The child of `userId`: its own data directories, in its network sandbox (child-command.ts, child-sandbox.ts). */
  private commandFor(userId: string | null): ChildCommand {
    const command = resolveChildCommand(this.env, userId);
    return this.sandbox ? this.sandbox.wrap(command) : command;
  }

  public async onModuleInit(): Promise<void> {
    this.sandbox = await ChildSandbox.start(this.env, this.command.egress, this.logger);
    if (this.env.STDIO_PEER_URL)
      this.peering = await Peering.start(
        {
          url: this.env.STDIO_PEER_URL,
          secret: this.env.STDIO_PEER_SECRET,
          service: this.command.label,
          // Renewed by every request; a session or user idle this long has no child left anyway.
          claimTtlSeconds: this.env.MCP_SESSION_IDLE_TIMEOUT + 60,
        },
        this.store,
        this.logger,
      );
    registerMcpRoute(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      allowedOrigins: this.env.MCP_ALLOWED_ORIGINS,
      localhostOrigins: this.env.NODE_ENV !== 'production',
      topology: this.env.topology,
      maxBodyBytes: this.env.MCP_MAX_BODY_BYTES,
      logger: this.logger,
      policy: this.policy,
      handle: (exchange) => this.handle(exchange),
    });
    const every = Math.min(this.env.MCP_SESSION_IDLE_TIMEOUT, this.env.MCP_SESSION_UNUSED_TIMEOUT, 60) * 1000;
    this.sweeper = setInterval(() => this.sweep(), every).unref();
    if (this.env.STDIO_MEMORY_BUDGET_MB > 0) {
      if (!this.memory.supported)
        this.logger.warn(`STDIO_MEMORY_BUDGET_MB is not enforced on ${process.platform} (it reads Linux's /proc)`);
      const sample = () => void this.memory.sample(this.childPids()).catch(() => undefined);
      this.sampler = setInterval(sample, this.env.STDIO_MEMORY_SAMPLE_INTERVAL * 1000).unref();
    }
    this.logger.log(
      `wrapping ${this.command.label}: ${this.command.command} ${this.command.args.join(' ')}` +
        ` (a child per ${this.perUser ? 'user' : 'session'})`,
    );
  }

  /** SIGTERM: every child is stopped (stdin closed, then SIGTERM, then SIGKILL) before the process exits. */
  public async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.sampler);
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    // First leave the registry: the peers answer this replica's sessions 404 at once instead of forwarding here.
    await this.peering?.close();
    await Promise.allSettled([this.modern.close(), ...sessions.map((session) => session.close())]);
    await childDirsRemoved();
    await this.sandbox?.close();
  }

  private async handle(exchange: McpExchange): Promise<void> {
    try {
      await this.route(exchange);
    } catch (error) {
      if (!(error instanceof StorageUnavailableError) || exchange.reply.sent) throw error;
      this.logger.warn(`owner registry unavailable: ${String(error.cause)}`);
      // RFC 9110 §15.6.4: the registry (Redis) does not answer; the client retries.
      await refuse(exchange.reply, 503, 'Service unavailable: storage does not answer, retry later', -32000, {
        'retry-after': '5',
      });
    }
  }

  private async route(exchange: McpExchange): Promise<void> {
    const forwarded = this.peering ? await this.peering.admit(exchange) : 'direct';
    if (forwarded === 'refused') return;
    // A user's children live on one replica: 2026-07-28 (routed by user), and sessions sharing a user's child.
    const userClaim: Claim = { kind: 'user', key: exchange.identity?.userId ?? '' };
    const byUser =
      exchange.era === 'modern' ||
      (this.perUser && exchange.request.method === 'POST' && isInitializeRequest(exchange.body));
    if (byUser && this.peering && forwarded === 'direct') {
      if ((await this.peering.route(exchange, userClaim, true)) === 'forwarded') return;
    } else if (byUser && this.peering) this.peering.renew(userClaim);
    if (exchange.era === 'modern') return this.serveModern(exchange, userClaim.key);
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
    // Held by another replica: forwarded there (unless this request was itself forwarded to this one).
    if (!session && this.peering && forwarded === 'direct') {
      const route = await this.peering.route(exchange, { kind: 'session', key: sessionId }, false);
      if (route === 'forwarded') return;
    }
    // An unknown, ended (child exited, idle, DELETE, its replica gone) or another user's session: 404, so the
    // client re-initializes.
    if (!session || session.userId !== userId) return refuse(reply, 404, 'Session not found', -32001);
    this.peering?.renew({ kind: 'session', key: sessionId });
    session.lastSeen = Date.now();
    if (request.method === 'POST') {
      // JSON-RPC 2.0 §4: an id names one request; a second one in flight with it would get the first's answer.
      const duplicate = duplicateIdOf(body, (id) => session.isOpen(id));
      if (duplicate !== undefined)
        return refuse(reply, 400, `Invalid Request: id ${JSON.stringify(duplicate)} is already in flight`, -32600);
      if (hasRequest(body)) session.requests++;
    }
    await serveTransport(session.http, exchange, this.logger);
  }

  /**
   * A 2026-07-28 request: served by the user's child, which counts against STDIO_MAX_CHILDREN and
   * STDIO_MAX_CHILDREN_PER_USER like a 2025 one; a user without one is admitted as a new session would be.
   */
  private serveModern(exchange: McpExchange, userKey: string): Promise<void> {
    if (!this.modern.has(userKey)) {
      const refused = this.admit(exchange.identity?.userId ?? null, 'modern');
      // The 2025 path's refusal (RFC 9110 §15.6.4 503 + §10.2.3 Retry-After), a JSON-RPC error body in both eras.
      if (refused) return busy(exchange, refused, 'retry later');
    }
    // Counted from this call on: nothing is awaited between the check and it, so concurrent first requests of
    // several users cannot all pass (the child itself starts once the SDK accepted the request).
    return this.modern.handle(exchange);
  }

  private async open(exchange: McpExchange, userId: string | null): Promise<void> {
    const id = randomUUID();
    // Before the client learns the id: its next request may reach another replica, which must find it here.
    // Claimed before the admission, so that nothing is awaited between the check and the session counted.
    if (this.peering) await this.peering.claim({ kind: 'session', key: id });
    const refused = this.admit(userId, 'legacy');
    if (refused) {
      this.peering?.release({ kind: 'session', key: id });
      return busy(exchange, refused, 'end a session (DELETE) or retry later');
    }
    const timeout = this.env.STDIO_REQUEST_TIMEOUT;
    const session: PooledSession = this.perUser
      ? new SharedSession(id, userId, this.sharedChildOf(userId), this.logger, () => this.forget(session))
      : new ProxySession(id, userId, this.commandFor(userId), this.logger, () => this.forget(session), timeout);
    this.sessions.set(id, session); // counted against the limits from now on
    try {
      await session.start();
      this.policy?.filterListsOn(session.http);
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
    } else this.logger.log(`session ${id.slice(0, 8)} opened`);
  }

  /**
   * Room for a new 2025 session (`legacy`) or a 2026-07-28 child (`modern`) of this user, or why not. The user's
   * sessions and their 2026-07-28 child count against STDIO_MAX_CHILDREN_PER_USER; at that limit the one idle
   * longest (no request in flight) ends: clients reconnect without DELETE, and the new one is the one in use.
   * Every child of both eras counts against STDIO_MAX_CHILDREN and the memory budget.
   */
  private admit(userId: string | null, era: 'legacy' | 'modern'): string | undefined {
    const userKey = userId ?? '';
    const owned: Array<{ lastSeen: number; busy: boolean; end: () => void }> = [
      ...[...this.sessions.values()]
        .filter((session) => session.userId === userId)
        .map((session) => ({
          lastSeen: session.lastSeen,
          busy: session.openRequests > 0,
          end: () => {
            this.logger.log(`session ${session.id.slice(0, 8)} ended: its user opened a new one at the per-user limit`);
            this.forget(session);
            void session.close();
          },
        })),
    ];
    const modernChild = this.modern.usageOf(userKey);
    if (modernChild)
      owned.push({
        ...modernChild,
        end: () => this.modern.end(userKey, 'its user opened a session at the per-user limit'),
      });
    const excess = owned.length - this.env.STDIO_MAX_CHILDREN_PER_USER + 1;
    if (excess > 0) {
      const idle = owned.filter((slot) => !slot.busy).sort((a, b) => a.lastSeen - b.lastSeen);
      if (idle.length < excess) return 'you have the maximum number of sessions, all busy';
      for (const slot of idle.slice(0, excess)) slot.end();
    }
    const existing = era === 'legacy' && this.perUser ? this.shared.get(userKey) : undefined;
    const needsChild = !existing || existing.closed;
    if (!needsChild) return undefined;
    const pids = this.childPids();
    const legacyChildren = this.perUser
      ? [...this.shared.values()].filter((child) => !child.closed).length
      : this.sessions.size;
    const modernChildren = this.modern.users().length;
    if (legacyChildren + modernChildren + 1 > this.env.STDIO_MAX_CHILDREN)
      return 'the proxy runs its maximum of child processes';
    const budget = this.env.STDIO_MEMORY_BUDGET_MB * MB;
    if (budget > 0 && this.memory.total(pids) + this.memory.perChild > budget) {
      this.logger.warn(
        `memory budget: children use ${Math.round(this.memory.total(pids) / MB)} MB of ${this.env.STDIO_MEMORY_BUDGET_MB} MB` +
          ` (${Math.round(this.memory.perChild / MB)} MB each), refusing a new one`,
      );
      return "the child processes use the proxy's memory budget";
    }
    return undefined;
  }

  /** Process ids of the running children: 2025-era (one per session, or one per user) and 2026-07-28 (one per user). */
  private childPids(): number[] {
    const pids = this.perUser
      ? [...this.shared.values()].filter((child) => !child.closed).map((child) => child.pid)
      : [...this.sessions.values()].map((session) => session.pid);
    return [...pids.filter((pid): pid is number => typeof pid === 'number'), ...this.modern.pids()];
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
        this.env.STDIO_REQUEST_TIMEOUT,
      );
      this.shared.set(key, created);
      child = created;
    }
    return child;
  }

  private forget(session: PooledSession): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.peering?.release({ kind: 'session', key: session.id });
  }

  /** Ends idle sessions: MCP_SESSION_IDLE_TIMEOUT, or MCP_SESSION_UNUSED_TIMEOUT for one that never made a request. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, session] of this.sessions) {
      if (session.openRequests > 0) continue; // the request deadline bounds it
      const timeout = session.requests === 0 ? this.env.MCP_SESSION_UNUSED_TIMEOUT : this.env.MCP_SESSION_IDLE_TIMEOUT;
      if (session.lastSeen >= now - timeout * 1000) continue;
      this.logger.log(`session ${id.slice(0, 8)} idle${session.requests === 0 ? ' and never used' : ''}, ending it`);
      this.forget(session);
      void session.close();
    }
  }
}

/** The refusal at a child limit: 503 with Retry-After and a JSON-RPC error, whichever the era (never a 500). */
function busy(exchange: McpExchange, why: string, advice: string): Promise<void> {
  return refuse(exchange.reply, 503, `Server busy: ${why}; ${advice}`, -32000, {
    'retry-after': String(RETRY_AFTER_SECONDS),
  });
}

/** Resident set size of a process in bytes (VmRSS of /proc/PID/status; 0 where there is no /proc). */
function rssOf(pid: number): number {
  try {
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A POST body with a JSON-RPC request other than `initialize` (a session in use). */
function hasRequest(body: unknown): boolean {
  return (Array.isArray(body) ? body : [body]).some(
    (message) =>
      typeof message === 'object' &&
      message !== null &&
      'method' in message &&
      'id' in message &&
      (message as { method: unknown }).method !== 'initialize',
  );
}
