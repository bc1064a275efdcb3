import * as oidc from 'openid-client';
import type { UserIdentity } from '../../store/records';
import { LoginProvider, UpstreamLoginError } from './login-provider';

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: string;
  readonly callbackUrl: string;
  /** Plain-http issuer allowed (localhost/127.0.0.1, or OIDC_ALLOW_INSECURE_HTTP). */
  readonly allowInsecure: boolean;
}

/**
 * Any OpenID Connect provider through `openid-client` (discovery, PKCE, state, nonce and ID Token
 * validation are its job, not ours). Discovery runs on first use and is retried after a failure, so
 * auth starts even while the IdP is down.
 */
export class OidcLoginProvider extends LoginProvider {
  public readonly kind = 'oidc' as const;
  private configuration?: Promise<oidc.Configuration>;

  public constructor(private readonly settings: OidcSettings) {
    super();
  }

  public async begin(state: string): Promise<{ url: string; upstream: Record<string, string> }> {
    const config = await this.config();
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.callbackUrl,
      scope: this.settings.scopes,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, upstream: { verifier, nonce } };
  }

  public async complete(
    callback: URL,
    state: string,
    upstream: Readonly<Record<string, string>>,
  ): Promise<UserIdentity> {
    const config = await this.config();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: upstream['verifier'] as string,
        expectedState: state,
        expectedNonce: upstream['nonce'] as string,
        idTokenExpected: true,
      });
    } catch (error) {
      throw new UpstreamLoginError(`OIDC code exchange failed: ${(error as Error).message}`, { cause: error });
    }
    const claims = tokens.claims();
    if (!claims) throw new UpstreamLoginError('the OIDC provider returned no ID Token');
    let profile: Record<string, unknown> = claims;
    if (claims['email'] === undefined && config.serverMetadata().userinfo_endpoint) {
      profile = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
    }
    // Only a verified email may match ALLOWED_EMAILS (OIDC Core §5.1 `email_verified`).
    const email =
      typeof profile['email'] === 'string' && profile['email_verified'] === true ? profile['email'] : undefined;
    const login = [profile['preferred_username'], email, claims.sub].find(
      (value): value is string => typeof value === 'string' && value !== '',
    );
    return {
      sub: `oidc:${claims.sub}`,
      provider: 'oidc',
      login: login ?? claims.sub,
      ...(typeof profile['name'] === 'string' ? { name: profile['name'] } : {}),
      ...(email ? { email } : {}),
    };
  }

  private config(): Promise<oidc.Configuration> {
    this.configuration ??= oidc
      .discovery(
        new URL(this.settings.issuer),
        this.settings.clientId,
        this.settings.clientSecret || undefined,
        this.settings.clientSecret ? oidc.ClientSecretPost(this.settings.clientSecret) : oidc.None(),
        { execute: this.settings.allowInsecure ? [oidc.allowInsecureRequests] : [], timeout: 10 },
      )
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw new UpstreamLoginError(`OIDC discovery of ${this.settings.issuer} failed: ${(error as Error).message}`, {
          cause: error,
        });
      });
    return this.configuration;
  }
}
