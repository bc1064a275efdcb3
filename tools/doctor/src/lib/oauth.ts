import { createHash, randomBytes } from 'node:crypto';
import { parseHTML } from 'linkedom';
import type { HttpClient } from './http';

/** RFC 8414 §2 fields the doctor and the token helper use. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly authorization_endpoint?: string;
  readonly token_endpoint?: string;
  readonly registration_endpoint?: string;
  readonly code_challenge_methods_supported?: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly client_id_metadata_document_supported?: boolean;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly scope?: string;
}

/** RFC 9728 §3.1 / RFC 8414 §3.1: the well-known URL with the path inserted after the well-known segment. */
export function wellKnownUrl(url: string, suffix: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '');
  return `${parsed.origin}/.well-known/${suffix}${path}`;
}

/** RFC 7636 §4.1–4.2: a verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** RFC 7591 §3.1: a public client (auth method none) for a loopback redirect. */
export async function registerClient(
  http: HttpClient,
  metadata: AuthorizationServerMetadata,
  redirectUri: string,
  clientName: string,
): Promise<string> {
  if (!metadata.registration_endpoint) throw new Error('the authorization server offers no registration endpoint');
  const response = await http.fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const body = (await response.json().catch(() => ({}))) as { client_id?: string; error_description?: string };
  if (response.status !== 201 || !body.client_id)
    throw new Error(`registration answered ${response.status}: ${body.error_description ?? 'no client_id'}`);
  return body.client_id;
}

/** The authorization request (RFC 6749 §4.1.1 + RFC 7636 + RFC 8707 `resource`). */
export function authorizationUrl(
  metadata: AuthorizationServerMetadata,
  params: { clientId: string; redirectUri: string; challenge: string; state: string; scope: string; resource: string },
): URL {
  const url = new URL(metadata.authorization_endpoint ?? '');
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: params.clientId,
    redirect_uri: params.redirectUri,
    code_challenge: params.challenge,
    code_challenge_method: 'S256',
    state: params.state,
    ...(params.scope ? { scope: params.scope } : {}),
    resource: params.resource,
  }).toString();
  return url;
}

/** RFC 6749 §4.1.3 with the PKCE verifier and `resource` (public client: client_id in the body). */
export async function exchangeCode(
  http: HttpClient,
  metadata: AuthorizationServerMetadata,
  params: { clientId: string; redirectUri: string; code: string; verifier: string; resource: string },
): Promise<TokenResponse> {
  return tokenRequest(http, metadata, {
    grant_type: 'authorization_code',
    code: params.code,
    redirect_uri: params.redirectUri,
    code_verifier: params.verifier,
    client_id: params.clientId,
    resource: params.resource,
  });
}

/** RFC 6749 §6: a refresh (the helper's `--refresh`). */
export function refreshTokens(
  http: HttpClient,
  metadata: AuthorizationServerMetadata,
  params: { clientId: string; refreshToken: string; resource: string },
): Promise<TokenResponse> {
  return tokenRequest(http, metadata, {
    grant_type: 'refresh_token',
    refresh_token: params.refreshToken,
    client_id: params.clientId,
    resource: params.resource,
  });
}

async function tokenRequest(
  http: HttpClient,
  metadata: AuthorizationServerMetadata,
  form: Record<string, string>,
): Promise<TokenResponse> {
  const response = await http.fetch(metadata.token_endpoint ?? '', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<TokenResponse> & {
    error?: string;
    error_description?: string;
  };
  if (!response.ok || !body.access_token)
    throw new Error(
      `the token endpoint answered ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`,
    );
  return body as TokenResponse;
}

/**
 * What a person does in a browser at the gateway's dev login (DESIGN.md: a form with `username`, then the consent
 * form's Allow button), with fetch and a cookie jar, until the redirect to `redirectUri`. Returns that redirect.
 */
export async function signInWithDevLogin(
  http: HttpClient,
  start: URL,
  username: string,
  redirectUri: string,
): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start.href;
  let init: RequestInit = {};
  for (let step = 0; step < 12; step++) {
    const response = await http.fetch(url, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
      },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(';', 1)[0] ?? '';
      jar.set(pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1));
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url);
      if (next.href.startsWith(redirectUri)) return next;
      url = next.href;
      init = {};
      continue;
    }
    const html = await response.text();
    if (!response.ok) throw new Error(`${response.status} at ${url}: ${html.replace(/<[^>]+>/g, ' ').slice(0, 200)}`);
    // linkedom parses the page as a browser would (the fields of the first form, their values decoded).
    const form = parseHTML(html).document.querySelector('form');
    if (!form) throw new Error(`no form at ${url} (is this the dev login?)`);
    const action = form.getAttribute('action') ?? url;
    const fields = new URLSearchParams();
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      if (name) fields.set(name, name === 'username' ? username : (input.getAttribute('value') ?? ''));
    }
    if (form.querySelector('button[name="decision"]')) fields.set('decision', 'allow');
    const target = new URL(action, url);
    url = target.href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin },
      body: fields.toString(),
    };
  }
  throw new Error('the sign-in did not finish within 12 steps');
}
