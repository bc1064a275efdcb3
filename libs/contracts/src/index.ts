export { CallerIdentity, IDENTITY_HEADERS, identityFromHeaders, identityToHeaders } from './lib/identity';
