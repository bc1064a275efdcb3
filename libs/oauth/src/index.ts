export {
  GRANT_TYPES,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  validateClientMetadata,
  type ValidClientMetadata,
} from './lib/client-metadata';
export { OAuthError, type OAuthErrorCode, type OAuthErrorOptions } from './lib/oauth-error';
export { checkRedirectUri, matchRedirectUri, type RedirectUriKind } from './lib/redirect-uri';
export { BASE_SCOPE, parseScope, type Scope, SUPPORTED_SCOPES, withBaseScope } from './lib/scope';
export { isValidCodeVerifier, s256Challenge, verifyS256 } from './lib/pkce';
