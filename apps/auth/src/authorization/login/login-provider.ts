import type { UserIdentity } from '../../store/records';

/** The upstream identity provider the user signs in with (GitHub, an OIDC provider, or the dev login). */
export abstract class LoginProvider {
  public abstract readonly kind: UserIdentity['provider'];

  /**
   * Where to send the browser to sign in, carrying our random `state`. `upstream` is stored with the
   * login state and handed back to `complete` (e.g. the OIDC PKCE verifier and nonce).
   */
  public abstract begin(state: string): Promise<{ url: string; upstream?: Record<string, string> }>;

  /** Turns the callback (`code`, `state`, ... as received at ISSUER/callback) into the signed-in user. */
  public abstract complete(
    callback: URL,
    state: string,
    upstream: Readonly<Record<string, string>>,
  ): Promise<UserIdentity>;
}

/** The upstream IdP failed or answered nonsense: the client gets `server_error`/`temporarily_unavailable`. */
export class UpstreamLoginError extends Error {}
