import { EnvInt } from '@gateway/config';
import { McpEnv } from '@gateway/mcp-session';
import { IsIn, IsString } from 'class-validator';

/** Configuration of stdio-proxy (see .env.example and docs/stdio-proxy.md). */
export class StdioProxyEnv extends McpEnv {
  public override PORT = 3201;

  /** Catalog name of the wrapped stdio server (everything, memory, filesystem, sequential-thinking); ignored with STDIO_COMMAND. */
  @IsString()
  public MCP_SERVICE = '';

  /** An explicit stdio server command instead of the catalog's (`node` = this Node.js binary). */
  @IsString()
  public STDIO_COMMAND = '';

  /** Arguments of STDIO_COMMAND, separated by whitespace. */
  @IsString()
  public STDIO_ARGS = '';

  /** Working directory of the child; empty = the proxy's. */
  @IsString()
  public STDIO_CWD = '';

  /** Directory for the wrapped servers' data (`${MCP_DATA_DIR}` in the catalog, e.g. memory's file); created if missing. */
  @IsString()
  public MCP_DATA_DIR = './data';

  /** The directory server-filesystem is confined to (`${MCP_WORKSPACE_DIR}`); created if missing. */
  @IsString()
  public MCP_WORKSPACE_DIR = './workspace';

  /**
   * `session`: a child per MCP session. `user`: one child per user shared by that user's sessions (clients that
   * open a session per call). Empty: `user` where the catalog marks the server shareable (memory), else `session`.
   */
  @IsIn(['', 'session', 'user'], { message: 'must be session, user or empty' })
  public STDIO_CHILD_PER: '' | 'session' | 'user' = '';

  /** Seconds a session (and its child process) lives without a request. */
  @EnvInt(1, 7 * 24 * 3600)
  public MCP_SESSION_IDLE_TIMEOUT = 1800;

  /** Seconds a session lives that never made a request after `initialize` (clients that reconnect and never return). */
  @EnvInt(1, 7 * 24 * 3600)
  public MCP_SESSION_UNUSED_TIMEOUT = 120;

  /** Seconds a request may wait for the child's answer (restarted by progress); then it ends with a JSON-RPC error. */
  @EnvInt(1, 24 * 3600)
  public STDIO_REQUEST_TIMEOUT = 300;

  /** Child processes at most, in total; beyond it initialize gets 503 + Retry-After. */
  @EnvInt(1, 10_000)
  public STDIO_MAX_CHILDREN = 32;

  /**
   * Sessions at most per user (`x-user-id`). A user at the limit who opens another one gets it, and their
   * session idle longest ends; 503 only when all of them have a request in flight.
   */
  @EnvInt(1, 10_000)
  public STDIO_MAX_CHILDREN_PER_USER = 4;

  /**
   * Megabytes of resident memory (RSS, sampled) all children together may use; a session that needs a new child
   * gets 503 + Retry-After when the children's sampled total plus one more child's average would exceed it. 0 = no budget.
   */
  @EnvInt(0, 1024 * 1024)
  public STDIO_MEMORY_BUDGET_MB = 1024;

  /** Seconds between two samples of the children's memory. */
  @EnvInt(1, 3600)
  public STDIO_MEMORY_SAMPLE_INTERVAL = 5;
}
