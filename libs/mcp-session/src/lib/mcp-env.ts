import { EnvTopology, type GatewayTopology } from '@gateway/catalog';
import { BaseEnv, EnvInt, EnvList } from '@gateway/config';
import { StorageEnv } from '@gateway/storage';

/** Keys of a stateless MCP service (see .env.example). */
export class McpEnv extends BaseEnv {
  /**
   * Browser origins allowed to call `/mcp` (exact `scheme://host[:port]`), besides the gateway's own public
   * origins; `*` allows every origin. Requests without `Origin` pass; any other origin gets 403
   * (MCP 2025-11-25 basic/transports "Security Warning": DNS rebinding).
   */
  @EnvList()
  public MCP_ALLOWED_ORIGINS: string[] = [];

  /** Largest JSON-RPC request body in bytes; larger gets 413. */
  @EnvInt(1024, 64 * 1024 * 1024)
  public MCP_MAX_BODY_BYTES = 1024 * 1024;

  /** Seconds one POST may take; requests still unanswered then get a JSON-RPC error (-32603). */
  @EnvInt(1, 24 * 3600)
  public MCP_REQUEST_TIMEOUT = 300;

  /** The service catalog (ROUTING_MODE, PUBLIC_URL, BASE_DOMAIN, MCP_<NAME>_*), resolved with the other keys. */
  @EnvTopology()
  public readonly topology!: GatewayTopology;
}

/** Keys of a stateful MCP service: the above plus storage and the idle timeout. */
export class McpSessionEnv extends StorageEnv {
  @EnvList()
  public MCP_ALLOWED_ORIGINS: string[] = [];

  @EnvInt(1024, 64 * 1024 * 1024)
  public MCP_MAX_BODY_BYTES = 1024 * 1024;

  @EnvInt(1, 24 * 3600)
  public MCP_REQUEST_TIMEOUT = 300;

  /** Seconds a session lives without a request; it then answers 404 and the client re-initializes. */
  @EnvInt(1, 7 * 24 * 3600)
  public MCP_SESSION_IDLE_TIMEOUT = 1800;

  @EnvTopology()
  public readonly topology!: GatewayTopology;
}
