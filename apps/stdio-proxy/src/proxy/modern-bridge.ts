import type { Logger } from '@nestjs/common';
import type { CallerIdentity } from '@gateway/contracts';
import { type McpExchange, serveWeb, type ToolPolicy } from '@gateway/mcp-session';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type Progress, ProgressNotificationSchema, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  type AuthInfo,
  createMcpHandler,
  ProtocolError,
  ProtocolErrorCode,
  type McpHttpHandler,
  type RequestMethod,
  type Result,
  Server,
  type ServerCapabilities,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { type ChildCommand, prepareChildDir, removeChildDir } from './child-command';

/** The reserved `_meta` keys of the 2026-07-28 envelope: the wrapped 2025 server never sees them. */
const ENVELOPE_PREFIX = 'io.modelcontextprotocol/';

/** One user's child for 2026-07-28 traffic: initialized once (2025 handshake), then every request forwarded. */
interface UserChild {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  readonly ready: Promise<void>;
  lastSeen: number;
  inFlight: number;
  /** The process exited by itself (not stopped by the bridge): its requests in flight get the 2025 path's error. */
  exited: boolean;
}

/**
 * MCP 2026-07-28 in front of a stdio server that speaks the 2025 protocol. The revision has no sessions, so
 * requests are routed by the authenticated user (basic/transports, 2026-07-28: a stdio bridge routes by
 * principal): one child per user, started and initialized on that user's first request and stopped after
 * `idleSeconds` without one. Each HTTP request gets a per-request SDK v2 `Server` (the SDK answers
 * `server/discover`, the envelope and the `Mcp-Method`/`Mcp-Name` checks) advertising the child's own
 * capabilities, whose handler forwards the request to the child through an SDK client: the client gives the
 * child its own request ids and maps the answers back (ids rewritten and restored), progress is relayed to
 * the caller's progress token, and a cancelled HTTP request cancels the child's work.
 */
export class ModernBridge {
  private readonly children = new Map<string, UserChild>();
  /**
   * Requests being served, by user key. A user's first request is counted (and admitted by the proxy) before the
   * child exists: the child starts only once the SDK has accepted the request. A user with a request here counts
   * as one child, and their child is not idle.
   */
  private readonly serving = new Map<string, number>();
  /** Children the bridge itself stops (idle, evicted, shutdown). */
  private readonly stopping = new WeakSet<UserChild>();
  private readonly handler: McpHttpHandler;
  private readonly sweeper: NodeJS.Timeout;
  /** The progress tokens given to the children, each mapped to the relay of the request that owns it. */
  private readonly progressRoutes = new Map<string, (progress: Progress) => void>();
  private lastProgressToken = 0;

  public constructor(
    private readonly label: string,
    /** The child command of a user (its own data directories, in its network sandbox). */
    private readonly commandFor: (userKey: string) => ChildCommand,
    private readonly logger: Logger,
    private readonly idleSeconds: number,
    /** Per-tool authorization: list results show what the caller may use (docs/authorization.md). */
    private readonly policy?: ToolPolicy,
  ) {
    this.handler = createMcpHandler((context) => this.serverFor(context.authInfo), {
      legacy: 'reject',
      onerror: (error) => this.logger.debug(`modern: ${error.message}`),
    });
    this.sweeper = setInterval(() => this.sweep(), Math.min(idleSeconds, 60) * 1000).unref();
  }

  /** The number of per-user children, starting or running. */
  public get size(): number {
    return this.children.size;
  }

  /** The users (keys) with a child, starting or running, or a request that may start one: one child each. */
  public users(): string[] {
    return [...new Set([...this.children.keys(), ...this.serving.keys()])];
  }

  public has(userKey: string): boolean {
    return this.children.has(userKey) || this.serving.has(userKey);
  }

  /** When the user's child last served a request, and whether one is in flight; undefined without either. */
  public usageOf(userKey: string): { readonly lastSeen: number; readonly busy: boolean } | undefined {
    const child = this.children.get(userKey);
    if (!child && !this.serving.has(userKey)) return undefined;
    return { lastSeen: child?.lastSeen ?? Date.now(), busy: this.serving.has(userKey) || (child?.inFlight ?? 0) > 0 };
  }

  /** Process ids of the running children (memory budget, gauges). */
  public pids(): number[] {
    return [...this.children.values()]
      .map((child) => child.transport.pid)
      .filter((pid): pid is number => typeof pid === 'number');
  }

  /** Stops the user's child now (no longer counted); its next request starts a new one. */
  public end(userKey: string, reason: string): void {
    const child = this.children.get(userKey);
    if (!child) return;
    this.children.delete(userKey);
    this.logger.log(`child ${this.label}/${userKey || 'anonymous'} (2026-07-28) ended: ${reason}`);
    void this.stop(child);
  }

  /** Serves one request; counted in {@link users} from this call on (synchronously) until it is answered. */
  public async handle(exchange: McpExchange): Promise<void> {
    const key = exchange.identity?.userId ?? '';
    this.serving.set(key, (this.serving.get(key) ?? 0) + 1);
    try {
      await serveWeb(
        exchange,
        (request, authInfo) => this.handler.fetch(request, { authInfo, parsedBody: exchange.body }),
        this.logger,
      );
    } finally {
      const left = (this.serving.get(key) ?? 1) - 1;
      if (left > 0) this.serving.set(key, left);
      else this.serving.delete(key);
    }
  }

  public async close(): Promise<void> {
    clearInterval(this.sweeper);
    const children = [...this.children.values()];
    this.children.clear();
    await Promise.allSettled([this.handler.close(), ...children.map((child) => this.stop(child))]);
  }

  private async serverFor(authInfo: AuthInfo | undefined): Promise<Server> {
    const identity = (authInfo?.extra as { identity?: CallerIdentity } | undefined)?.identity;
    const key = identity?.userId ?? '';
    const child = this.childOf(key);
    await child.ready;
    child.lastSeen = Date.now();
    const server = new Server(child.client.getServerVersion() ?? { name: this.label, version: '0' }, {
      capabilities: (child.client.getServerCapabilities() ?? {}) as ServerCapabilities,
      instructions: child.client.getInstructions(),
    });
    const capabilities = child.client.getServerCapabilities() ?? {};
    // Only the methods the child's capabilities cover are forwarded; anything else is the SDK's own
    // "method not found" (2026-07-28 basic/transports: HTTP 404 with -32601).
    const forwarded: RequestMethod[] = [
      ...(capabilities.tools ? (['tools/list', 'tools/call'] as const) : []),
      ...(capabilities.resources ? (['resources/list', 'resources/read', 'resources/templates/list'] as const) : []),
      ...(capabilities.prompts ? (['prompts/list', 'prompts/get'] as const) : []),
      ...(capabilities.completions ? (['completion/complete'] as const) : []),
    ];
    for (const method of forwarded) {
      server.setRequestHandler(method, (async (request: { params?: Record<string, unknown> }, ctx: ServerContext) => {
        const result = await this.forward(child, method, request.params, ctx);
        return this.policy ? (this.policy.filterList(method, result, identity) as Result) : result;
      }) as never);
    }
    return server;
  }

  /**
   * Sends one request to the child and relays its progress to the caller's token, in order, before the result.
   * The child gets a token of the proxy's own (two callers may use the same one) routed by the child's progress
   * handler below, not the SDK client's `onprogress`: that client drops its progress handler as soon as the
   * response is read, while the notifications read just before it are still waiting in a microtask, so the last
   * ones were lost whenever they reached the proxy in the same stdout chunk as the result (basic/utilities/
   * progress: notifications for a token are valid until the response, so those before it must be delivered).
   */
  private async forward(
    child: UserChild,
    method: string,
    rawParams: Record<string, unknown> | undefined,
    ctx: ServerContext,
  ): Promise<Result> {
    const stripped = withoutEnvelope(rawParams);
    const meta = stripped?.['_meta'] as { progressToken?: string | number } | undefined;
    const token = meta?.progressToken;
    const childToken = token === undefined ? undefined : `gateway-${++this.lastProgressToken}`;
    const params = childToken === undefined ? stripped : { ...stripped, _meta: { ...meta, progressToken: childToken } };
    let relayed: Promise<unknown> = Promise.resolve();
    if (childToken !== undefined) {
      this.progressRoutes.set(childToken, (progress) => {
        relayed = relayed
          .then(() =>
            ctx.mcpReq.notify({ method: 'notifications/progress', params: { ...progress, progressToken: token } }),
          )
          .catch(() => undefined);
      });
    }
    child.inFlight += 1;
    try {
      const result = (await child.client
        .request({ method, params }, ResultSchema, {
          signal: ctx.mcpReq.signal,
          timeout: 24 * 3600 * 1000, // bounded by the HTTP side, not here
        })
        .catch((error: unknown) => {
          // The SDK client's "Connection closed": the same JSON-RPC error as a 2025 session's (request-deadlines.ts).
          if (child.exited) throw new ProtocolError(ProtocolErrorCode.InternalError, 'The MCP server process exited');
          throw error;
        })) as Result;
      await relayed;
      return result;
    } finally {
      if (childToken !== undefined) this.progressRoutes.delete(childToken);
      child.inFlight -= 1;
      child.lastSeen = Date.now();
    }
  }

  private stop(child: UserChild): Promise<void> {
    this.stopping.add(child);
    return child.client.close();
  }

  private childOf(key: string): UserChild {
    const existing = this.children.get(key);
    if (existing) return existing;
    const label = `${this.label}/${key || 'anonymous'} (2026-07-28)`;
    const command = this.commandFor(key);
    const transport = new StdioClientTransport({
      command: command.command,
      args: [...command.args],
      env: { ...command.env },
      cwd: command.cwd,
      stderr: 'ignore',
    });
    const client = new Client({ name: 'gateway-stdio-proxy', version: '1.0.0' }, { capabilities: {} });
    client.setNotificationHandler(ProgressNotificationSchema, ({ params }) => {
      const { progressToken, ...progress } = params;
      this.progressRoutes.get(String(progressToken))?.(progress);
    });
    // Set before connect(), which chains it: the SDK client then also learns of the exit and fails the requests in
    // flight at once (set after, it replaced the client's handler and those requests waited for the HTTP side).
    transport.onclose = () => {
      child.exited = !this.stopping.has(child);
      if (this.children.get(key) === child) this.children.delete(key);
      void removeChildDir(command);
      this.logger.log(`child ${label} ended`);
    };
    prepareChildDir(command);
    const child: UserChild = {
      client,
      transport,
      ready: client.connect(transport).catch(async (error: unknown) => {
        if (this.children.get(key) === child) this.children.delete(key);
        await removeChildDir(command);
        throw error;
      }),
      lastSeen: Date.now(),
      inFlight: 0,
      exited: false,
    };
    this.children.set(key, child);
    this.logger.log(`child ${label} started`);
    return child;
  }

  private sweep(): void {
    const limit = Date.now() - this.idleSeconds * 1000;
    for (const [key, child] of this.children) {
      if (child.lastSeen >= limit || child.inFlight > 0 || this.serving.has(key)) continue;
      this.children.delete(key);
      void this.stop(child);
    }
  }
}

/** The request's params without the 2026-07-28 envelope keys in `_meta` (the 2025 child does not know them). */
function withoutEnvelope(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const meta = params?.['_meta'] as Record<string, unknown> | undefined;
  if (!params || !meta) return params;
  const kept = Object.fromEntries(Object.entries(meta).filter(([name]) => !name.startsWith(ENVELOPE_PREFIX)));
  const { _meta: _dropped, ...rest } = params;
  return Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest;
}
