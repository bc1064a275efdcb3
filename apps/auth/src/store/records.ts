import type { ValidClientMetadata } from '@gateway/oauth';

/**
 * What auth keeps in storage, by key family. Both the authorization side (registration, /authorize,
 * login, consent) and the token side (/token, /revoke, /introspect, /verify) read these shapes, so they
 * are defined once here. Wire names (snake_case) only where the value is RFC 7591 client metadata.
 * storage-schema.md beside this file lists every key family with its TTL.
 */

/** The user as the upstream IdP identified them, after the access policy let them in. */
export interface UserIdentity {
  /** Stable subject: `<provider>:<upstream id>`, e.g. `github:583231`, `oidc:<sub>`, `dev:alice`. */
  readonly sub: string;
  readonly provider: 'github' | 'oidc' | 'dev';
  /** Login / preferred username (what allow-lists match, case-insensitively). */
  readonly login: string;
  readonly name?: string;
  /** Verified email only. */
  readonly email?: string;
  /** GitHub organisations (lower-case) when the policy needs them. */
  readonly orgs?: readonly string[];
  /** GitHub teams as `org/team-slug` (lower-case) when the policy needs them. */
  readonly teams?: readonly string[];
}

/**
 * RFC 7591 §2 client metadata as registered (validated and normalised by `validateClientMetadata`), or as read
 * from a Client ID Metadata Document, which may also use `private_key_jwt` with `jwks`/`jwks_uri` (RFC 7523 §2.2).
 */
export type ClientMetadata = Readonly<
  Omit<ValidClientMetadata, 'token_endpoint_auth_method'> & {
    token_endpoint_auth_method: ValidClientMetadata['token_endpoint_auth_method'] | 'private_key_jwt';
    /** RFC 7591 §2: the client's public keys by value (a JWK Set), for private_key_jwt. */
    jwks?: { keys: Record<string, unknown>[] };
    /** RFC 7591 §2: where the client's JWK Set is published, for private_key_jwt. */
    jwks_uri?: string;
  }
>;
export type TokenEndpointAuthMethod = ClientMetadata['token_endpoint_auth_method'];

/** Key `client:{client_id}`; TTL = CLIENT_LIFETIME (none when 0), shorter while unused (`clientTtl`). */
export interface ClientRecord {
  readonly clientId: string;
  /** SHA-256 (hex) of the client secret; absent for public clients (`none`). */
  readonly clientSecretHash?: string;
  /** SHA-256 (hex) of the RFC 7592 registration access token. */
  readonly registrationTokenHash: string;
  /** Seconds since the epoch (`client_id_issued_at`). */
  readonly issuedAt: number;
  /** Seconds since the epoch; 0 = never (`client_secret_expires_at`). */
  readonly expiresAt: number;
  /** Seconds since the epoch of the first code redeemed; until then the client expires after UNUSED_CLIENT_LIFETIME. */
  readonly usedAt?: number;
  readonly metadata: ClientMetadata;
  /** Set when the client_id is the URL of a Client ID Metadata Document (never stored, resolved per request). */
  readonly document?: { readonly host: string; readonly pinned: boolean };
}

/**
 * Key `code:{sha256(code)}`; TTL = AUTHORIZATION_CODE_LIFETIME (≤ 60 s by default). Taken atomically
 * (`KeyValueStore.take`) by the token endpoint, so a code is redeemed at most once.
 */
export interface AuthorizationCodeRecord {
  readonly clientId: string;
  /** The redirect_uri exactly as sent on /authorize (RFC 6749 §4.1.3 requires the same value on /token). */
  readonly redirectUri: string;
  /** RFC 7636: S256 only. */
  readonly codeChallenge: string;
  readonly codeChallengeMethod: 'S256';
  /** RFC 8707: the canonical MCP URL of the service (the token's `aud`). */
  readonly resource: string;
  /** Space-separated granted scopes. */
  readonly scope: string;
  readonly user: UserIdentity;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
}

/** Hex SHA-256: how codes, tokens and secrets are keyed and stored (never in the clear). */
export { hashSecret, matchesHash } from './hash';
