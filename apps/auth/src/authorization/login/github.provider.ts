import * as oidc from 'openid-client';
import type { UserIdentity } from '../../store/records';
import { LoginProvider, UpstreamLoginError } from './login-provider';

export interface GithubSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Web origin: https://github.com or a GitHub Enterprise Server. */
  readonly baseUrl: string;
  /** REST API root: https://api.github.com or https://HOST/api/v3. */
  readonly apiUrl: string;
  readonly callbackUrl: string;
  readonly readOrgs: boolean;
  readonly readTeams: boolean;
}

const TIMEOUT_MS = 10_000;

/**
 * GitHub OAuth app login (docs.github.com "Authorizing OAuth apps"): web flow, then the REST API for the
 * user, their primary verified email and, when a policy needs them, organisations and teams.
 * Plain fetch (undici) rather than a generic OAuth client: GitHub's OAuth app flow is not OIDC, and the
 * exchange is one form POST.
 */
export class GithubLoginProvider extends LoginProvider {
  public readonly kind = 'github' as const;

  public constructor(private readonly settings: GithubSettings) {
    super();
  }

  public async begin(state: string): Promise<{ url: string; upstream: Record<string, string> }> {
    const url = new URL('/login/oauth/authorize', this.settings.baseUrl);
    // read:org lets /user/orgs and /user/teams list private memberships too.
    const scope = [
      'read:user',
      'user:email',
      ...(this.settings.readOrgs || this.settings.readTeams ? ['read:org'] : []),
    ].join(' ');
    // PKCE towards GitHub too (RFC 7636, RFC 9700 §2.1.1; GitHub supports S256 for OAuth apps): a code stolen
    // from our callback is useless without the verifier, which stays in our login state.
    const verifier = oidc.randomPKCECodeVerifier();
    url.search = new URLSearchParams({
      client_id: this.settings.clientId,
      redirect_uri: this.settings.callbackUrl,
      scope,
      state,
      allow_signup: 'false',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    return { url: url.href, upstream: { verifier } };
  }

  public async complete(
    callback: URL,
    _state: string,
    upstream: Readonly<Record<string, string>>,
  ): Promise<UserIdentity> {
    const code = callback.searchParams.get('code');
    if (!code) throw new UpstreamLoginError('GitHub returned no code');
    const verifier = upstream['verifier'];
    if (!verifier) throw new UpstreamLoginError('the sign-in began without a PKCE verifier; start again');
    const accessToken = await this.exchange(code, verifier);
    const user = await this.api<{ id: number; login: string; name?: string | null }>('/user', accessToken);
    if (typeof user.id !== 'number' || typeof user.login !== 'string')
      throw new UpstreamLoginError('GitHub /user answered without id or login');
    const emails = await this.api<{ email: string; primary: boolean; verified: boolean }[]>(
      '/user/emails',
      accessToken,
    ).catch(() => []);
    const email = Array.isArray(emails) ? emails.find((entry) => entry.primary && entry.verified)?.email : undefined;
    const orgs = this.settings.readOrgs
      ? (await this.api<{ login: string }[]>('/user/orgs?per_page=100', accessToken)).map((org) =>
          org.login.toLowerCase(),
        )
      : undefined;
    const teams = this.settings.readTeams
      ? (
          await this.api<{ slug: string; organization: { login: string } }[]>('/user/teams?per_page=100', accessToken)
        ).map((team) => `${team.organization.login}/${team.slug}`.toLowerCase())
      : undefined;
    return {
      sub: `github:${user.id}`,
      provider: 'github',
      login: user.login,
      ...(user.name ? { name: user.name } : {}),
      ...(email ? { email } : {}),
      ...(orgs ? { orgs } : {}),
      ...(teams ? { teams } : {}),
    };
  }

  private async exchange(code: string, verifier: string): Promise<string> {
    const response = await fetch(new URL('/login/oauth/access_token', this.settings.baseUrl), {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: this.settings.clientId,
        client_secret: this.settings.clientSecret,
        code,
        redirect_uri: this.settings.callbackUrl,
        code_verifier: verifier,
      }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      error?: string;
      error_description?: string;
    };
    if (!response.ok || !body.access_token) {
      throw new UpstreamLoginError(
        `GitHub code exchange failed: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim(),
      );
    }
    return body.access_token;
  }

  private async api<T>(path: string, accessToken: string): Promise<T> {
    const base = this.settings.apiUrl.replace(/\/$/, '');
    const response = await fetch(`${base}${path}`, {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${accessToken}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'mcp-oauth-gateway',
      },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new UpstreamLoginError(`GitHub ${path} answered ${response.status}`);
    return (await response.json()) as T;
  }
}
