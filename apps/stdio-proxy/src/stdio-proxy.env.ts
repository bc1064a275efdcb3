import { EnvInt, EnvList, Secret } from '@gateway/config';
import { McpSessionEnv } from '@gateway/mcp-session';
import { IsIn, IsString, Matches, MinLength, ValidateBy, ValidateIf } from 'class-validator';

/** Configuration of stdio-proxy (see .env.example and docs/stdio-proxy.md). */
export class StdioProxyEnv extends McpSessionEnv {
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

  /** `user` (default): `${MCP_DATA_DIR}` and `${MCP_WORKSPACE_DIR}` are a directory per user (memory file, workspace). `shared`: one for everyone. */
  @IsIn(['user', 'shared'], { message: 'must be user or shared' })
  public STDIO_DATA_SCOPE: 'user' | 'shared' = 'user';

  /** The network an explicit STDIO_COMMAND needs (catalog services declare their own): `none` or `internet` (through the egress proxy). */
  @IsIn(['none', 'internet'], { message: 'must be none or internet' })
  public STDIO_EGRESS: 'none' | 'internet' = 'none';

  /**
   * Network namespace of `egress: none` children. `required`: a fresh one (`unshare`), or the proxy does not start;
   * `auto`: the same, but only a warning where unshare is not available; `off`: none (compose: the container's
   * network isolates them). Empty: `required` in production, `auto` otherwise.
   */
  @IsIn(['', 'required', 'auto', 'off'], { message: 'must be required, auto or off' })
  public STDIO_NETNS: '' | 'required' | 'auto' | 'off' = '';

  /** The egress proxy for `internet` children (`http://host:port`); empty = one in this process on 127.0.0.1. */
  @Matches(/^(https?:\/\/[^/]+\/?)?$/, { message: 'must be http://host:port' })
  public EGRESS_PROXY_URL = '';

  /** In-process egress proxy: destinations reachable despite a refused address class (fetchs' FETCH_ALLOW syntax). */
  @EnvList()
  public EGRESS_ALLOW: string[] = [];

  /** In-process egress proxy: destinations always refused (wins over EGRESS_ALLOW). */
  @EnvList()
  public EGRESS_DENY: string[] = [];

  /** In-process egress proxy: DNS servers (`ip:port`) asked directly instead of the system resolver. */
  @EnvList()
  public EGRESS_DNS_SERVERS: string[] = [];

  /** In-process egress proxy: bound on resolving plus connecting. */
  @EnvInt(100, 120_000)
  public EGRESS_CONNECT_TIMEOUT_MS = 5_000;

  /** Seconds a session (and its child process) lives without a request. */
  @EnvInt(1, 7 * 24 * 3600)
  public override MCP_SESSION_IDLE_TIMEOUT = 1800;

  /** Seconds a session lives that never made a request after `initialize` (clients that reconnect and never return). */
  @EnvInt(1, 7 * 24 * 3600)
  public MCP_SESSION_UNUSED_TIMEOUT = 120;

  /** Seconds a request may wait for the child's answer (restarted by progress); then it ends with a JSON-RPC error. */
  @EnvInt(1, 24 * 3600)
  public STDIO_REQUEST_TIMEOUT = 300;

  /** Child processes at most, in total, both eras; beyond it a request that needs a new child gets 503 + Retry-After. */
  @EnvInt(1, 10_000)
  public STDIO_MAX_CHILDREN = 32;

  /**
   * Sessions (2025) plus the 2026-07-28 child at most per user (`x-user-id`). A user at the limit who opens another
   * one gets it, and their session or child idle longest ends; 503 only when all of them have a request in flight.
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

  /**
   * Replicas without sticky routing (docs/stdio-proxy.md "Replicas"): the origin at which the other replicas of
   * this service reach this one (`http://<pod IP>:<port>`); empty = a single replica. Needs REDIS_URL (the
   * replicas find each other's sessions there) and STDIO_PEER_SECRET.
   */
  @Matches(/^(https?:\/\/[^/?#@]+)?$/, { message: 'must be an origin such as http://10.0.0.7:3201, or empty' })
  @ValidateBy({
    name: 'peersNeedRedis',
    validator: {
      validate: (value, args) => !value || (args?.object as StdioProxyEnv).REDIS_URL !== '',
      defaultMessage: () => 'needs REDIS_URL: the replicas find the owner of a session in Redis',
    },
  })
  public STDIO_PEER_URL = '';

  /** Shared by the replicas of a service: signs the requests they forward to each other (at least 32 characters). */
  @Secret()
  @ValidateIf((env: StdioProxyEnv) => env.STDIO_PEER_URL !== '')
  @MinLength(32, { message: 'must be at least 32 characters when STDIO_PEER_URL is set (e.g. openssl rand -hex 32)' })
  public STDIO_PEER_SECRET = '';
}
