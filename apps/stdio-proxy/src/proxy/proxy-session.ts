import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '@nestjs/common';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type ProgressToken,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { type ChildCommand, prepareChildDir, removeChildDir } from './child-command';
import { endedError, RequestDeadlines, timeoutError } from './request-deadlines';

/** What every session of the proxy tells the pool (limits, idle expiry, duplicate ids). */
export interface PooledSession {
  readonly id: string;
  readonly userId: string | null;
  readonly http: StreamableHTTPServerTransport;
  lastSeen: number;
  /** JSON-RPC requests after `initialize`: a session that never made one expires sooner. */
  requests: number;
  /** True while a client request of this id waits for its answer. */
  isOpen(id: RequestId): boolean;
  /** Requests waiting for their answer. */
  readonly openRequests: number;
  /** The child's process id (a shared child's for every session on it). */
  readonly pid: number | null;
  /** Starts the child (or joins the user's); rejects when it cannot be started. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One MCP session = one child process. Both ends are the SDK's transports (Streamable HTTP towards the
 * client, stdio towards the child: framing, spawn, and the stdin-EOF → SIGTERM → SIGKILL stop), and
 * messages pass between them unchanged, ids included. The bridge only decides which HTTP stream
 * carries a child's message: a response goes to its request's stream (the SDK routes by id); a
 * progress notification to the request that carried its progressToken; any other notification or
 * request (logging, sampling, elicitation, roots) to the newest request still in flight, else to
 * the GET stream (MCP 2025-11-25 basic/transports "Sending Messages to the Server" / "Listening").
 * Every request ends: with the child's answer, a timeout error, or an error when the child exits.
 */
export class ProxySession implements PooledSession {
  public readonly http: StreamableHTTPServerTransport;
  public lastSeen = Date.now();
  public requests = 0;
  private readonly child: StdioClientTransport;
  /** Client requests the child has not answered yet, oldest first, with their progress tokens. */
  private readonly inFlight = new Map<RequestId, ProgressToken | undefined>();
  /** Client requests whose HTTP stream is open (a cancelled one stays until its deadline). */
  private readonly open: RequestDeadlines<RequestId>;
  private ended = false;
  private closing: Promise<void> | undefined;
  private finishing: Promise<void> | undefined;

  public constructor(
    public readonly id: string,
    public readonly userId: string | null,
    private readonly command: ChildCommand,
    private readonly logger: Logger,
    onEnded: () => void,
    private readonly requestTimeoutSeconds: number,
  ) {
    this.open = new RequestDeadlines(requestTimeoutSeconds * 1000, (requestId) => this.expire(requestId));
    this.http = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessionclosed: () => this.close(),
    });
    this.child = new StdioClientTransport({
      command: command.command,
      args: [...command.args],
      env: { ...command.env },
      cwd: command.cwd,
      stderr: 'pipe',
    });
    this.http.onclose = () => void this.close();
    this.child.onclose = () => {
      const exited = !this.ended;
      if (exited) this.logger.warn(`session ${id.slice(0, 8)}: child exited, session ended`);
      this.ended = true;
      onEnded();
      void removeChildDir(command);
      void this.finish(exited);
    };
  }

  public get pid(): number | null {
    return this.child.pid;
  }

  public isOpen(requestId: RequestId): boolean {
    return this.open.has(requestId);
  }

  public get openRequests(): number {
    return this.open.size;
  }

  /** Spawns the child; rejects when it cannot be started. */
  public async start(): Promise<void> {
    this.http.onmessage = (message) => this.toChild(message);
    this.http.onerror = (error) => this.logger.debug(`session ${this.id.slice(0, 8)} http: ${error.message}`);
    this.child.onmessage = (message) => this.toClient(message);
    this.child.onerror = (error) => this.logger.warn(`session ${this.id.slice(0, 8)} child: ${error.message}`);
    prepareChildDir(this.command);
    await this.child.start().catch(async (error: unknown) => {
      await removeChildDir(this.command);
      throw error;
    });
    const stderr = this.child.stderr; // a PassThrough (stderr: 'pipe')
    // The child's stderr is read continuously (a full pipe would block it) into the log.
    if (stderr)
      createInterface({ input: stderr as Readable }).on('line', (line) =>
        this.logger.log(`[${this.id.slice(0, 8)} pid ${this.pid}] ${line}`),
      );
    await this.http.start();
  }

  /** Stops the child (stdin EOF, then SIGTERM, then SIGKILL: the SDK's sequence) and ends the HTTP side; idempotent. */
  public close(): Promise<void> {
    this.closing ??= (async () => {
      this.ended = true;
      await this.finish(false);
      await this.child.close().catch(() => undefined);
    })();
    return this.closing;
  }

  /** Answers every open request with an error (the child will not), then ends the HTTP side. */
  private finish(childExited: boolean): Promise<void> {
    this.finishing ??= (async () => {
      this.inFlight.clear();
      const ids = this.open.drain();
      await Promise.allSettled(ids.map((requestId) => this.http.send(endedError(requestId, childExited))));
      await this.http.close();
    })();
    return this.finishing;
  }

  private expire(requestId: RequestId): void {
    this.inFlight.delete(requestId);
    this.logger.warn(`session ${this.id.slice(0, 8)}: request ${String(requestId)} timed out`);
    this.toChildQuietly({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId, reason: `no answer within ${this.requestTimeoutSeconds} s` },
    });
    this.http
      .send(timeoutError(requestId, this.requestTimeoutSeconds))
      .catch((error: unknown) => this.logger.debug(`session ${this.id.slice(0, 8)}: ${String(error)}`));
  }

  private toChild(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      const token = (message.params?._meta as { progressToken?: ProgressToken } | undefined)?.progressToken;
      this.inFlight.set(message.id, token);
      this.open.start(message.id);
    } else if ('method' in message && message.method === 'notifications/cancelled') {
      this.inFlight.delete((message.params as { requestId?: RequestId } | undefined)?.requestId ?? '');
    }
    this.toChildQuietly(message);
  }

  private toChildQuietly(message: JSONRPCMessage): void {
    this.child
      .send(message)
      .catch((error: unknown) =>
        this.logger.warn(`session ${this.id.slice(0, 8)}: write to child failed: ${String(error)}`),
      );
  }

  private toClient(message: JSONRPCMessage): void {
    let relatedRequestId: RequestId | undefined;
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      if (message.id !== undefined) {
        this.inFlight.delete(message.id);
        // A late answer to a request that timed out: its stream is gone.
        if (!this.open.settle(message.id)) return;
      }
    } else if ('method' in message && message.method === 'notifications/progress') {
      const token = (message.params as { progressToken?: ProgressToken } | undefined)?.progressToken;
      relatedRequestId = [...this.inFlight].find(([, candidate]) => candidate === token)?.[0];
    } else {
      relatedRequestId = [...this.inFlight.keys()].pop();
    }
    if (relatedRequestId !== undefined) this.open.touch(relatedRequestId);
    this.http
      .send(message, relatedRequestId === undefined ? undefined : { relatedRequestId })
      .catch((error: unknown) =>
        this.logger.warn(`session ${this.id.slice(0, 8)}: cannot deliver a child message: ${String(error)}`),
      );
  }
}
