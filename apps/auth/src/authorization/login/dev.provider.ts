import type { UserIdentity } from '../../store/records';
import { LoginProvider, UpstreamLoginError } from './login-provider';

/** Usernames the dev login accepts (they end up in identity headers and allow-lists). */
export const DEV_USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * The local default when no IdP is configured: a page that asks for a username (DevLoginController),
 * no password. It refuses to run with NODE_ENV=production (see loginProviderFactory).
 */
export class DevLoginProvider extends LoginProvider {
  public readonly kind = 'dev' as const;

  public async begin(state: string): Promise<{ url: string }> {
    return { url: `/login/dev?${new URLSearchParams({ state }).toString()}` };
  }

  /** The dev login page posts the username to /login/dev; nothing comes back through /callback. */
  public async complete(): Promise<UserIdentity> {
    throw new UpstreamLoginError('the dev login does not use /callback');
  }
}

export function devIdentity(username: string): UserIdentity {
  return { sub: `dev:${username.toLowerCase()}`, provider: 'dev', login: username };
}
