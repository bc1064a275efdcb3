import { EnvInt } from '@gateway/config';
import { StorageEnv } from '@gateway/storage';

/**
 * Configuration of auth (see .env.example). Routing and the service catalog (ROUTING_MODE, PUBLIC_URL,
 * BASE_DOMAIN, MCP_<NAME>_*) are read by `resolveTopology` from @gateway/catalog.
 */
export class AuthEnv extends StorageEnv {
  public override PORT = 3000;

  /** Seconds a registered client lives; 0 = until deleted (RFC 7591 `client_secret_expires_at`). */
  @EnvInt(0, 10 * 365 * 24 * 3600)
  public CLIENT_LIFETIME = 90 * 24 * 3600;
}
