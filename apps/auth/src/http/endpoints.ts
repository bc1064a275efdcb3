/**
 * Paths of auth's endpoints at the issuer (DESIGN.md "Endpoints of auth"). The metadata documents are
 * built from this list, so it names only what the server serves: the authorization side (/authorize),
 * the token side (/token, /revoke, /introspect, /jwks) and registration (/register).
 */
export const ENDPOINT_PATHS = {
  authorization: '/authorize',
  token: '/token',
  registration: '/register',
  revocation: '/revoke',
  introspection: '/introspect',
  jwks: '/jwks',
} as const;

/** RFC 8414 §3 / RFC 9728 §3: the well-known suffixes. */
export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const PRM_PATH = '/.well-known/oauth-protected-resource';
