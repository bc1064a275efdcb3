import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '@nestjs/common';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type ProgressToken,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { type ChildCommand, prepareChildDir, removeChildDir } from './child-command';
import { endedError, RequestDeadlines, timeoutError } from './request-deadlines';
import type { PooledSession } from './proxy-session';

interface Pending {
  readonly session: SharedSession;
  /** The client's own request id and progress token, restored on the way back. */
  readonly id: RequestId;
  readonly token: ProgressToken | undefined;
  readonly initialize: boolean;
}

type Params = Record<string, unknown> & { _meta?: Record<string, unknown> };

/**
 * One child shared by all sessions of one user (STDIO_CHILD_PER=user), for clients that open a session
 * per call. Sessions share one id space towards the child, so request ids and progress tokens are
 * rewritten to child-unique numbers and restored on the way back; the child is initialized once and
 * later sessions get its recorded InitializeResult; a child's request or notification goes to the
 * session whose request is newest in flight (else notifications go to every session's GET stream).
 */
export class SharedChild {
  private readonly child: StdioClientTransport;
  private readonly members = new Set<SharedSession>();
  private readonly pending = new Map<number, Pending>();
  /** Deadlines of the pending requests, by child id. */
  private readonly deadlines: RequestDeadlines<number>;
  /** The child's own requests (sampling, elicitation, roots) → the session asked to answer. */
  private readonly asked = new Map<RequestId, SharedSession>();
  private nextId = 0;
  private initializeResult: Record<string, unknown> | undefined;
  private initializedSent = false;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private stoppedByUs = false;

  /** The child's process id while it runs. */
  public get pid(): number | null {
    return this.child.pid;
  }

  public constructor(
    private readonly label: string,
    private readonly command: ChildCommand,
    private readonly logger: Logger,
    onEnded: () => void,
    private readonly requestTimeoutSeconds: number,
  ) {
    this.deadlines = new RequestDeadlines(requestTimeoutSeconds * 1000, (id) => this.expire(id));
    this.child = new StdioClientTransport({
      command: command.command,
      args: [...command.args],
      env: { ...command.env },
      cwd: command.cwd,
      stderr: 'pipe',
    });
    this.child.onmessage = (message) => this.fromChild(message);
    this.child.onerror = (error) => this.logger.warn(`shared child ${label}: ${error.message}`);
    this.child.onclose = () => {
      this.stopped = true;
      if (!this.stoppedByUs) this.logger.warn(`shared child ${label}: exited, its sessions end`);
      onEnded();
      void removeChildDir(command);
      // Every session of this user loses its pending requests: each gets an error before its session ends.
      void this.failPending(undefined, !this.stoppedByUs).then(() => {
        for (const session of this.members) void session.close();
      });
    };
  }

  public start(): Promise<void> {
    if (!this.starting) prepareChildDir(this.command);
    this.starting ??= this.child.start().then(
      () => {
        const stderr = this.child.stderr; // a PassThrough (stderr: 'pipe')
        if (stderr)
          createInterface({ input: stderr as Readable }).on('line', (line) =>
            this.logger.log(`[${this.label} pid ${this.child.pid}] ${line}`),
          );
      },
      async (error: unknown) => {
        this.stopped = true; // the next session gets a new child
        await removeChildDir(this.command);
        throw error;
      },
    );
    return this.starting;
  }

  public attach(session: SharedSession): void {
    this.members.add(session);
  }

  /** The last session gone stops the child. */
  public async detach(session: SharedSession): Promise<void> {
    this.members.delete(session);
    await this.failPending(session, false);
    if (this.members.size === 0) await this.close();
  }

  /** True while a request of this session with this (client) id waits for its answer. */
  public isOpen(session: SharedSession, id: RequestId): boolean {
    for (const pending of this.pending.values()) if (pending.session === session && pending.id === id) return true;
    return false;
  }

  public openRequestsOf(session: SharedSession): number {
    let count = 0;
    for (const pending of this.pending.values()) if (pending.session === session) count++;
    return count;
  }

  /** Answers the pending requests (of one session, or all) with an error: the child will not. */
  private async failPending(session: SharedSession | undefined, childExited: boolean): Promise<void> {
    const failed: Promise<void>[] = [];
    for (const [id, pending] of this.pending) {
      if (session && pending.session !== session) continue;
      this.pending.delete(id);
      this.deadlines.settle(id);
      failed.push(pending.session.deliver(endedError(pending.id, childExited)));
    }
    await Promise.allSettled(failed);
  }

  private expire(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    this.logger.warn(`shared child ${this.label}: request ${String(pending.id)} timed out`);
    this.toChild({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: id, reason: `no answer within ${this.requestTimeoutSeconds} s` },
    });
    void pending.session.deliver(timeoutError(pending.id, this.requestTimeoutSeconds));
  }

  /** True once the child is stopping: new sessions need a new child. */
  public get closed(): boolean {
    return this.stopped;
  }

  public async close(): Promise<void> {
    this.stopped = true;
    this.stoppedByUs = true;
    await this.child.close().catch(() => undefined);
  }

  public fromClient(session: SharedSession, message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      if (message.method === 'initialize' && this.initializeResult) {
        void session.deliver({ jsonrpc: '2.0', id: message.id, result: this.initializeResult });
        return;
      }
      const id = ++this.nextId;
      const params = message.params as Params | undefined;
      const token = params?._meta?.['progressToken'] as ProgressToken | undefined;
      this.pending.set(id, { session, id: message.id, token, initialize: message.method === 'initialize' });
      this.deadlines.start(id);
      const rewritten = token === undefined ? params : { ...params, _meta: { ...params?._meta, progressToken: id } };
      return this.toChild({ ...message, id, ...(rewritten ? { params: rewritten } : {}) });
    }
    if (isJSONRPCNotification(message)) {
      if (message.method === 'notifications/initialized') {
        if (this.initializedSent) return; // the child was initialized by an earlier session
        this.initializedSent = true;
      }
      if (message.method === 'notifications/cancelled') {
        const requestId = (message.params as Params | undefined)?.['requestId'];
        const id = [...this.pending].find(
          ([, pending]) => pending.session === session && pending.id === requestId,
        )?.[0];
        if (id === undefined) return; // about a request the child never saw
        return this.toChild({ ...message, params: { ...message.params, requestId: id } });
      }
      return this.toChild(message);
    }
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      if (message.id !== undefined) this.asked.delete(message.id);
    }
    this.toChild(message);
  }

  private fromChild(message: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
      // Unknown: a request that timed out, or of a session that ended.
      if (!pending)
        return this.logger.debug(`shared child ${this.label}: response to an unknown request ${String(message.id)}`);
      this.pending.delete(message.id as number);
      this.deadlines.settle(message.id as number);
      if (pending.initialize && isJSONRPCResultResponse(message)) this.initializeResult = message.result;
      return void pending.session.deliver({ ...message, id: pending.id });
    }
    if (isJSONRPCNotification(message) && message.method === 'notifications/progress') {
      const token = (message.params as Params | undefined)?.['progressToken'];
      const pending = typeof token === 'number' ? this.pending.get(token) : undefined;
      if (!pending) return;
      this.deadlines.touch(token as number);
      return void pending.session.deliver(
        { ...message, params: { ...message.params, progressToken: pending.token } },
        pending.id,
      );
    }
    const [newestId, newest] = [...this.pending].pop() ?? [];
    if (newestId !== undefined) this.deadlines.touch(newestId);
    if (isJSONRPCRequest(message)) {
      const session = newest?.session ?? [...this.members].pop();
      if (!session) return;
      this.asked.set(message.id, session);
      return void session.deliver(message, newest?.id);
    }
    if (newest) return void newest.session.deliver(message, newest.id);
    for (const session of this.members) void session.deliver(message);
  }

  private toChild(message: JSONRPCMessage): void {
    this.child
      .send(message)
      .catch((error: unknown) => this.logger.warn(`shared child ${this.label}: write failed: ${String(error)}`));
  }
}

/** An MCP session attached to a user's shared child. */
export class SharedSession implements PooledSession {
  public readonly http: StreamableHTTPServerTransport;
  public lastSeen = Date.now();
  public requests = 0;
  private closing: Promise<void> | undefined;

  public constructor(
    public readonly id: string,
    public readonly userId: string | null,
    private readonly child: SharedChild,
    private readonly logger: Logger,
    private readonly onEnded: () => void,
  ) {
    this.http = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessionclosed: () => this.close(),
    });
    this.http.onclose = () => void this.close();
  }

  public async start(): Promise<void> {
    await this.child.start();
    this.http.onmessage = (message) => this.child.fromClient(this, message);
    this.http.onerror = (error) => this.logger.debug(`session ${this.id.slice(0, 8)} http: ${error.message}`);
    await this.http.start();
    this.child.attach(this);
  }

  public get pid(): number | null {
    return this.child.pid;
  }

  public isOpen(id: RequestId): boolean {
    return this.child.isOpen(this, id);
  }

  public get openRequests(): number {
    return this.child.openRequestsOf(this);
  }

  public deliver(message: JSONRPCMessage, relatedRequestId?: RequestId): Promise<void> {
    return this.http
      .send(message, relatedRequestId === undefined ? undefined : { relatedRequestId })
      .catch((error: unknown) =>
        this.logger.warn(`session ${this.id.slice(0, 8)}: cannot deliver a child message: ${String(error)}`),
      );
  }

  /** Ends the session; the child stops with the last of its user's sessions. Idempotent. */
  public close(): Promise<void> {
    this.closing ??= (async () => {
      this.onEnded();
      await this.child.detach(this); // its pending requests get an error first
      await this.http.close();
    })();
    return this.closing;
  }
}
