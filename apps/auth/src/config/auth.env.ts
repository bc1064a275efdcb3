import { EnvTopology, type GatewayTopology } from '@gateway/catalog';
import { EnvBoolean, EnvDerived, EnvInt, EnvList, Secret } from '@gateway/config';
import { checkAllowLists } from './allow-lists';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { StorageEnv } from '@gateway/storage';

/** Configuration of auth (see .env.example), validated once at boot and injected by its class. */
export class AuthEnv extends StorageEnv {
  public override PORT = 3000;

  /**
   * The service catalog (ROUTING_MODE, PUBLIC_URL, BASE_DOMAIN, PUBLIC_SCHEME, MCP_<NAME>_*), resolved with the
   * other keys; injected as `TOPOLOGY` (config/topology.provider.ts).
   */
  @EnvTopology()
  public readonly topology!: GatewayTopology;

  /** Seconds a registered client lives; 0 = until deleted (RFC 7591 `client_secret_expires_at`). */
  @EnvInt(0, 10 * 365 * 24 * 3600)
  public CLIENT_LIFETIME = 90 * 24 * 3600;

  /**
   * Seconds a registered client that never redeemed a code lives; 0 = as long as CLIENT_LIFETIME. Cloud clients
   * register once per user and often never finish signing in; this clears those (docs/auth.md).
   */
  @EnvInt(0, 10 * 365 * 24 * 3600)
  public UNUSED_CLIENT_LIFETIME = 24 * 3600;

  /**
   * Registrations (POST /register) allowed per client IP per window; 0 = no limit. 300 an hour lets a client
   * platform register one client per user from one egress address (docs/auth.md "Rate limits").
   */
  @EnvInt(0, 1_000_000)
  public REGISTRATION_RATE_LIMIT = 300;

  /** Seconds of the registration rate-limit window. */
  @EnvInt(1, 24 * 3600)
  public REGISTRATION_RATE_WINDOW = 3600;

  // ---- Client ID Metadata Documents and jwks_uri (docs/auth.md "Client ID Metadata Documents")

  /** Accept https URL client_ids and fetch their metadata documents (draft-ietf-oauth-client-id-metadata-document). */
  @EnvBoolean()
  public CLIENT_METADATA_DOCUMENTS = true;

  /** Milliseconds a document or JWK Set fetch may take, redirects included. */
  @EnvInt(100, 30_000)
  public CLIENT_FETCH_TIMEOUT_MS = 5000;

  /** Largest document or JWK Set accepted, in bytes. */
  @EnvInt(1024, 1024 * 1024)
  public CLIENT_FETCH_MAX_BYTES = 64 * 1024;

  /** Documents and JWK Sets kept in memory (least recently used are dropped first). */
  @EnvInt(1, 100_000)
  public CLIENT_DOCUMENT_CACHE_SIZE = 1000;

  /**
   * Host names fetched even though they resolve to a non-public address (tests and private deployments only;
   * every other host must resolve to public unicast addresses).
   */
  @EnvList()
  public CLIENT_FETCH_ALLOW_HOSTS: string[] = [];

  /** DNS servers (`ip` or `ip:port`) asked directly for these fetches instead of the system resolver (tests: a local stub). */
  @EnvList()
  @Matches(/^(\d{1,3}(\.\d{1,3}){3}(:\d+)?|\[?[0-9a-f:]+\]?(:\d+)?)$/i, {
    each: true,
    message: 'entries must be ip or ip:port',
  })
  public CLIENT_FETCH_DNS_SERVERS: string[] = [];

  /** PEM file of extra CA certificates trusted for these fetches (tests with a self-signed CA only). */
  public CLIENT_FETCH_CA_FILE = '';

  /**
   * Comma list of proxy addresses or CIDRs (e.g. the Traefik network) whose X-Forwarded-For is believed
   * when finding the client IP for rate limits; empty = the socket's peer address is the client.
   */
  @EnvList()
  public TRUSTED_PROXIES: string[] = [];

  // ---- authorization side: upstream login, access policy, consent (docs/auth.md)

  /** Upstream login: github | oidc | dev; empty picks github if GITHUB_CLIENT_ID is set, oidc if OIDC_ISSUER is set, else dev. */
  @IsIn(['', 'github', 'oidc', 'dev'], { message: 'must be github, oidc, dev or empty' })
  public LOGIN_PROVIDER: '' | 'github' | 'oidc' | 'dev' = '';

  /** GitHub OAuth app (its callback URL is ISSUER/callback). */
  public GITHUB_CLIENT_ID = '';

  @Secret()
  public GITHUB_CLIENT_SECRET = '';

  /** Web origin of GitHub (GitHub Enterprise Server: https://github.example.com). */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  public GITHUB_BASE_URL = 'https://github.com';

  /** REST API root (GitHub Enterprise Server: https://github.example.com/api/v3). */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  public GITHUB_API_URL = 'https://api.github.com';

  /** OpenID Connect issuer, discovered through /.well-known/openid-configuration. */
  @IsOptional()
  @Matches(/^(https?:\/\/[^\s]+)?$/, { message: 'must be an http(s) URL' })
  public OIDC_ISSUER = '';

  public OIDC_CLIENT_ID = '';

  @Secret()
  public OIDC_CLIENT_SECRET = '';

  /** Scopes asked from the OIDC provider (space-separated). */
  public OIDC_SCOPES = 'openid email profile';

  /** Allow a plain-http OIDC issuer that is not localhost/127.0.0.1 (tests, private networks). */
  @EnvBoolean()
  public OIDC_ALLOW_INSECURE_HTTP = false;

  /**
   * GitHub users let in by numeric user id, optionally labelled `login:id` (never by login alone: logins are
   * renamed and recycled; config/allow-lists.ts); empty = nobody, `*` = every GitHub user.
   */
  @EnvList()
  public ALLOWED_GITHUB_USERS: string[] = [];

  /**
   * Refuses at boot any entry of ALLOWED_GITHUB_USERS or MCP_<NAME>_ALLOWED_USERS that names a person by an
   * identifier they (or someone after them) can choose (docs/security.md S35).
   */
  @EnvDerived(checkAllowLists)
  public readonly allowListsChecked!: true;

  /** When set, a GitHub user must also belong to one of these organisations. */
  @EnvList()
  public ALLOWED_GITHUB_ORGS: string[] = [];

  /** When set, a GitHub user must also belong to one of these teams (`org/team-slug`). */
  @EnvList()
  public ALLOWED_GITHUB_TEAMS: string[] = [];

  /** OIDC users let in by verified email; `*` = every user of the provider. */
  @EnvList()
  public ALLOWED_EMAILS: string[] = [];

  /** OIDC users let in by the domain of their verified email. */
  @EnvList()
  public ALLOWED_EMAIL_DOMAINS: string[] = [];

  /** Dev-login usernames let in; `*` = anyone (the dev login never runs in production). */
  @EnvList()
  public ALLOWED_DEV_USERS: string[] = ['*'];

  /** Seconds an authorization code lives (RFC 6749 §4.1.2: short). */
  @EnvInt(1, 600)
  public AUTHORIZATION_CODE_LIFETIME = 60;

  /** Seconds a user's consent to a client is remembered; 0 = ask every time. */
  @EnvInt(0, 365 * 24 * 3600)
  public CONSENT_LIFETIME = 90 * 24 * 3600;

  // ---- token side: /token, JWTs, /verify (docs/auth.md "Tokens and /verify")

  /** Seconds an access token (JWT) is valid. */
  @EnvInt(60, 30 * 24 * 3600)
  public ACCESS_TOKEN_LIFETIME = 3600;

  /** Seconds a refresh token is valid; every refresh rotates it and starts a new lifetime. */
  @EnvInt(60, 365 * 24 * 3600)
  public REFRESH_TOKEN_LIFETIME = 30 * 24 * 3600;

  /** Seconds after a rotation during which the old refresh token still yields the same successor (concurrent refreshes). */
  @EnvInt(0, 300)
  public REFRESH_GRACE_SECONDS = 10;

  /** Signing algorithm of new keys: RS256 or ES256 (P-256). */
  @IsIn(['RS256', 'ES256'], { message: 'must be RS256 or ES256' })
  public JWT_ALGORITHM: 'RS256' | 'ES256' = 'RS256';

  /**
   * Seconds between two reads of the key ring by each replica. A rotated-in key starts signing two intervals
   * after the rotation, so every replica publishes and accepts it before any replica signs with it.
   */
  @EnvInt(1, 3600)
  public KEY_RING_RELOAD_INTERVAL = 60;

  /** PKCS#8 PEM (or base64 of it) of the signing key; empty = generated on first start and kept in storage. */
  @Secret()
  public JWT_PRIVATE_KEY = '';
}
