import { Logger, type Provider } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { ConfigValidationError } from '@gateway/config';
import { AuthEnv } from '../../config/auth.env';
import { AccessPolicy } from '../../policy/access-policy';
import { TOPOLOGY } from '../../config/topology.provider';
import { DevLoginProvider } from './dev.provider';
import { GithubLoginProvider } from './github.provider';
import { LoginProvider } from './login-provider';
import { OidcLoginProvider } from './oidc.provider';

/** The upstream callback path at the issuer (register ISSUER/callback at GitHub / the OIDC provider). */
export const CALLBACK_PATH = '/callback';

/** LOGIN_PROVIDER, or: github if GITHUB_CLIENT_ID is set, oidc if OIDC_ISSUER is set, else dev. */
export function chooseLoginProvider(env: AuthEnv): 'github' | 'oidc' | 'dev' {
  if (env.LOGIN_PROVIDER) return env.LOGIN_PROVIDER;
  if (env.GITHUB_CLIENT_ID) return 'github';
  if (env.OIDC_ISSUER) return 'oidc';
  return 'dev';
}

function createLoginProvider(env: AuthEnv, topology: GatewayTopology, policy: AccessPolicy): LoginProvider {
  const logger = new Logger('LoginProvider');
  const callbackUrl = `${topology.issuer}${CALLBACK_PATH}`;
  const kind = chooseLoginProvider(env);
  const missing = (keys: string[]): void => {
    const problems = keys
      .filter((key) => !env[key as keyof AuthEnv])
      .map((key) => `${key} is missing: LOGIN_PROVIDER=${kind} needs it`);
    if (problems.length > 0) throw new ConfigValidationError(problems, 'auth');
  };
  switch (kind) {
    case 'github':
      missing(['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET']);
      logger.log(`upstream login: GitHub at ${env.GITHUB_BASE_URL} (callback ${callbackUrl})`);
      if (env.ALLOWED_GITHUB_USERS.length === 0)
        logger.warn('ALLOWED_GITHUB_USERS is empty: nobody can sign in (set it, or * for every GitHub user)');
      return new GithubLoginProvider({
        clientId: env.GITHUB_CLIENT_ID,
        clientSecret: env.GITHUB_CLIENT_SECRET,
        baseUrl: env.GITHUB_BASE_URL,
        apiUrl: env.GITHUB_API_URL,
        callbackUrl,
        readOrgs: policy.needsGithubOrgs,
        readTeams: policy.needsGithubTeams,
      });
    case 'oidc': {
      missing(['OIDC_ISSUER', 'OIDC_CLIENT_ID']);
      const issuer = new URL(env.OIDC_ISSUER);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
      if (issuer.protocol === 'http:' && !loopback && !env.OIDC_ALLOW_INSECURE_HTTP) {
        throw new ConfigValidationError(
          [`OIDC_ISSUER=${JSON.stringify(env.OIDC_ISSUER)}: must be https (or set OIDC_ALLOW_INSECURE_HTTP=true)`],
          'auth',
        );
      }
      logger.log(`upstream login: OpenID Connect provider ${env.OIDC_ISSUER} (callback ${callbackUrl})`);
      if (env.ALLOWED_EMAILS.length === 0 && env.ALLOWED_EMAIL_DOMAINS.length === 0) {
        logger.warn('ALLOWED_EMAILS and ALLOWED_EMAIL_DOMAINS are empty: nobody can sign in');
      }
      return new OidcLoginProvider({
        issuer: env.OIDC_ISSUER,
        clientId: env.OIDC_CLIENT_ID,
        clientSecret: env.OIDC_CLIENT_SECRET,
        scopes: env.OIDC_SCOPES,
        callbackUrl,
        allowInsecure: issuer.protocol === 'http:',
      });
    }
    case 'dev':
      if (env.NODE_ENV === 'production') {
        throw new ConfigValidationError(
          [
            'LOGIN_PROVIDER=dev: the dev login (no password) refuses to run with NODE_ENV=production; set GITHUB_CLIENT_ID or OIDC_ISSUER',
          ],
          'auth',
        );
      }
      logger.warn(
        'upstream login: DEV LOGIN - anyone can sign in as any username. Never expose this gateway publicly.',
      );
      return new DevLoginProvider();
  }
}

export const loginProvider: Provider = {
  provide: LoginProvider,
  inject: [AuthEnv, TOPOLOGY, AccessPolicy],
  useFactory: createLoginProvider,
};
