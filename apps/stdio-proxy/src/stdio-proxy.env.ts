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

  /** `session`: a child per MCP session. `user`: one child per user shared by that user's sessions (clients that open a session per call). */
  @IsIn(['session', 'user'], { message: 'must be session or user' })
  public STDIO_CHILD_PER: 'session' | 'user' = 'session';

  /** Seconds a session (and its child process) lives without a request. */
  @EnvInt(1, 7 * 24 * 3600)
  public MCP_SESSION_IDLE_TIMEOUT = 1800;

  /** Child processes at most, in total; beyond it initialize gets 503 + Retry-After. */
  @EnvInt(1, 10_000)
  public STDIO_MAX_CHILDREN = 32;

  /** Sessions (each a child process, unless STDIO_CHILD_PER=user) at most per user (`x-user-id`). */
  @EnvInt(1, 10_000)
  public STDIO_MAX_CHILDREN_PER_USER = 4;
}
