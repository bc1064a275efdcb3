export { OAuthError, type OAuthErrorCode, type OAuthErrorOptions } from './lib/oauth-error';
