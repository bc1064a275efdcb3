import { EnvBoolean, EnvInt, EnvList } from '@gateway/config';
import { McpSessionEnv } from '@gateway/mcp-session';
import { IsNotEmpty, IsString, Matches } from 'class-validator';

/**
 * Configuration of fetchs (see .env.example and docs/fetchs.md). fetchs serves MCP statelessly but keeps
 * its per-user rate limit in storage, hence the storage-backed MCP keys (MCP_SESSION_IDLE_TIMEOUT unused).
 */
export class FetchsEnv extends McpSessionEnv {
  public override PORT = 3103;

  /** Destinations reachable despite a refused address class: hosts, `*.domain`, IPs, CIDRs, each optionally `:port`. */
  @EnvList()
  public FETCH_ALLOW: string[] = [];

  /** Destinations always refused (wins over FETCH_ALLOW), same syntax. */
  @EnvList()
  public FETCH_DENY: string[] = [];

  /** DNS servers (`ip` or `ip:port`) asked directly instead of the system resolver; empty = system resolver. */
  @EnvList()
  @Matches(/^(\d{1,3}(\.\d{1,3}){3}(:\d+)?|\[?[0-9a-f:]+\]?(:\d+)?)$/i, {
    each: true,
    message: 'entries must be ip or ip:port',
  })
  public FETCH_DNS_SERVERS: string[] = [];

  /** Largest response body read (decoded bytes); the rest is never downloaded. */
  @EnvInt(1024, 100 * 1024 * 1024)
  public FETCH_MAX_BYTES = 5 * 1024 * 1024;

  @EnvInt(0, 20)
  public FETCH_MAX_REDIRECTS = 5;

  /** Bound on name resolution plus connecting, per connection. */
  @EnvInt(100, 120_000)
  public FETCH_CONNECT_TIMEOUT_MS = 5_000;

  /** Bound on a whole fetch: redirects and body (a robots.txt fetch has its own bound of the same length). */
  @EnvInt(100, 600_000)
  public FETCH_TIMEOUT_MS = 30_000;

  /** Bound on converting one HTML page to Markdown (runs in a worker thread, ended at the deadline). */
  @EnvInt(1, 600_000)
  public FETCH_CONVERT_TIMEOUT_MS = 10_000;

  /** Honour robots.txt (RFC 9309) for FETCH_USER_AGENT. */
  @EnvBoolean()
  public FETCH_ROBOTS = true;

  @IsString()
  @IsNotEmpty()
  public FETCH_USER_AGENT = 'ModelContextProtocol/1.0 (Autonomous; mcp-oauth-gateway fetchs)';

  /** Fetches per user per minute; 0 = unlimited. */
  @EnvInt(0, 100_000)
  public FETCH_RATE_LIMIT = 60;
}
