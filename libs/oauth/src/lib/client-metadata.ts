import { OAuthError } from './oauth-error';
import { checkRedirectUri } from './redirect-uri';
import { parseScope, SUPPORTED_SCOPES, withBaseScope } from './scope';

export const TOKEN_ENDPOINT_AUTH_METHODS = ['none', 'client_secret_post', 'client_secret_basic'] as const;
export const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
export const RESPONSE_TYPES = ['code'] as const;

/** RFC 7591 §2 client metadata as this server registers it (validated, normalised, defaults filled in). */
export interface ValidClientMetadata {
  redirect_uris: string[];
  token_endpoint_auth_method: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];
  grant_types: (typeof GRANT_TYPES)[number][];
  response_types: (typeof RESPONSE_TYPES)[number][];
  scope: string;
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  application_type?: 'web' | 'native';
}

const MAX_REDIRECT_URIS = 10;
const MAX_CONTACTS = 10;
const MAX_TEXT = 200;
const MAX_URL = 2000;
const URL_FIELDS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const;
const TEXT_FIELDS = ['client_name', 'software_id', 'software_version'] as const;

/**
 * Validates an RFC 7591 registration (or RFC 7592 replacement) body. Metadata this server does not
 * understand is ignored (RFC 7591 §2); a known field with a wrong type or value is `invalid_client_metadata`,
 * a bad redirect URI is `invalid_redirect_uri` (§3.2.2). Defaults (documented in docs/auth.md):
 * `token_endpoint_auth_method` client_secret_basic (RFC 7591 §2), `response_types` [code], `grant_types`
 * both grants this server has, `scope` every supported scope.
 */
export function validateClientMetadata(body: unknown): ValidClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('the request body must be a JSON object of client metadata');
  const input = body as Record<string, unknown>;

  const redirectUris = input['redirect_uris'];
  if (redirectUris === undefined) throw invalid('redirect_uris is required');
  if (!Array.isArray(redirectUris) || redirectUris.length === 0)
    throw invalid('redirect_uris must be a non-empty array of URIs');
  if (redirectUris.length > MAX_REDIRECT_URIS)
    throw invalid(`at most ${MAX_REDIRECT_URIS} redirect_uris may be registered`);
  for (const uri of redirectUris) checkRedirectUri(uri);

  const authMethod = oneOf(input, 'token_endpoint_auth_method', TOKEN_ENDPOINT_AUTH_METHODS) ?? 'client_secret_basic';
  const grantTypes = listOf(input, 'grant_types', GRANT_TYPES) ?? [...GRANT_TYPES];
  const responseTypes = listOf(input, 'response_types', RESPONSE_TYPES) ?? [...RESPONSE_TYPES];
  // RFC 7591 §2.1: response_type "code" needs grant_type "authorization_code", the only flow served here.
  if (!grantTypes.includes('authorization_code'))
    throw invalid('grant_types must include authorization_code (response_types "code")');

  const scopeValue = input['scope'];
  if (scopeValue !== undefined && typeof scopeValue !== 'string')
    throw invalid('scope must be a space-separated string');
  // RFC 7591 §3.2.1: the server may register other values than asked; unknown scopes are dropped and the
  // base scope is always registered, so `openid profile email` or no scope at all still yields a usable client.
  const scopes = scopeValue === undefined ? [...SUPPORTED_SCOPES] : parseScope(scopeValue, 'invalid_client_metadata');

  const metadata: ValidClientMetadata = {
    redirect_uris: [...new Set(redirectUris as string[])],
    token_endpoint_auth_method: authMethod,
    grant_types: grantTypes,
    response_types: responseTypes,
    scope: withBaseScope(scopes),
  };
  for (const field of TEXT_FIELDS) {
    const value = text(input, field);
    if (value !== undefined) metadata[field] = value;
  }
  for (const field of URL_FIELDS) {
    const value = webUrl(input, field);
    if (value !== undefined) metadata[field] = value;
  }
  const contacts = input['contacts'];
  if (contacts !== undefined) {
    if (
      !Array.isArray(contacts) ||
      contacts.length > MAX_CONTACTS ||
      !contacts.every((c) => typeof c === 'string' && c.length > 0 && c.length <= 320)
    ) {
      throw invalid(`contacts must be an array of at most ${MAX_CONTACTS} e-mail addresses`);
    }
    metadata.contacts = contacts as string[];
  }
  const applicationType = oneOf(input, 'application_type', ['web', 'native'] as const);
  if (applicationType) metadata.application_type = applicationType;
  return metadata;
}

function oneOf<T extends string>(input: Record<string, unknown>, field: string, allowed: readonly T[]): T | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function listOf<T extends string>(
  input: Record<string, unknown>,
  field: string,
  allowed: readonly T[],
): T[] | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => typeof item === 'string' && (allowed as readonly string[]).includes(item))
  ) {
    throw invalid(`${field} must be a non-empty array of ${allowed.join(', ')}`);
  }
  return [...new Set(value as T[])];
}

function text(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_TEXT)
    throw invalid(`${field} must be a string of at most ${MAX_TEXT} characters`);
  return value;
}

/** URLs shown or linked on the consent page: absolute http(s) only, so no `javascript:` link can be planted. */
function webUrl(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  let ok = false;
  if (typeof value === 'string' && value.length <= MAX_URL) {
    try {
      const url = new URL(value);
      ok = (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
    } catch {
      ok = false;
    }
  }
  if (!ok) throw invalid(`${field} must be an absolute http(s) URL`);
  return value as string;
}

function invalid(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}
