import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { parseHTML } from 'linkedom';

/** Never dialled: the test reads the code from the authorization server's redirect instead. */
const REDIRECT_URI = 'http://127.0.0.1:1/callback';

/** An in-memory OAuthClientProvider, as a headless MCP client would implement it. */
export class TestOAuthProvider implements OAuthClientProvider {
  public authorizationUrl?: URL;
  /**
   * `refresh: false` registers without the refresh_token grant: MCP SDK v1 (1.32) answers a 403 insufficient_scope
   * by refreshing when it holds a refresh token, which cannot widen the scope (RFC 6749 §6), so its step-up
   * re-authorizes only without one. SDK v2 re-authorizes for the union either way.
   */
  public constructor(private readonly options: { readonly refresh?: boolean } = {}) {}
  private information?: OAuthClientInformationMixed;
  private savedTokens?: OAuthTokens;
  private verifier = '';

  public get redirectUrl(): string {
    return REDIRECT_URI;
  }

  public get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'gateway e2e (MCP SDK)',
      redirect_uris: [REDIRECT_URI],
      grant_types: this.options.refresh === false ? ['authorization_code'] : ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  public clientInformation() {
    return this.information;
  }
  public saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information;
  }
  public tokens() {
    return this.savedTokens;
  }
  public saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  public redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  public saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  public codeVerifier() {
    return this.verifier;
  }
}

/** A fetch that records `METHOD URL → status` of every request the SDK makes. */
export function recordingFetch(log: string[], fetchFn: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await fetchFn(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    log.push(`${init?.method ?? 'GET'} ${url} → ${response.status}`);
    return response;
  };
}

/**
 * What a person does in the browser, with fetch and a cookie jar: follows the authorization server's
 * redirects, fills the dev login form (DESIGN.md: input name=username) and allows on the consent form
 * (button name=decision value=allow), until the redirect to the client's redirect URI.
 */
export async function completeAuthorization(
  authorizationUrl: URL,
  username: string,
  fetchFn: typeof fetch = fetch,
  /** Where the client's redirect URI starts (never dialled); `forms` collects `login`/`consent` per form filled. */
  client: { readonly redirectPrefix?: string; readonly forms?: string[]; readonly consentPages?: string[] } = {},
): Promise<URL> {
  const redirectPrefix = client.redirectPrefix ?? REDIRECT_URI;
  const jar = new Map<string, string>();
  let url = authorizationUrl.href;
  let init: RequestInit = {};
  for (let step = 0; step < 12; step++) {
    const response = await fetchFn(url, {
      ...init,
      redirect: 'manual',
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
      if (next.href.startsWith(redirectPrefix)) return next;
      // Only the gateway is ever dialled (traffic stays on this machine): anything else is a failure.
      if (next.origin !== authorizationUrl.origin) throw new Error(`redirected off the gateway to ${next.href}`);
      url = next.href;
      init = {};
      continue;
    }
    const html = await response.text();
    if (!response.ok) throw new Error(`${response.status} at ${url}: ${html.slice(0, 500)}`);
    const { document } = parseHTML(html);
    const form = document.querySelector('form');
    if (!form) throw new Error(`no form at ${url}: ${html.slice(0, 500)}`);
    const fields = new URLSearchParams();
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      if (name) fields.set(name, name === 'username' ? username : (input.getAttribute('value') ?? ''));
    }
    const consent = form.querySelector('button[name="decision"]') !== null;
    if (consent) fields.set('decision', 'allow');
    if (consent) client.consentPages?.push(html);
    client.forms?.push(consent ? 'consent' : 'login');
    const action = new URL(form.getAttribute('action') ?? url, url);
    url = action.href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: action.origin },
      body: fields.toString(),
    };
  }
  throw new Error('the authorization did not finish within 12 steps');
}

/**
 * The whole MCP authorization flow with the official SDK: connect (401), discovery, registration,
 * authorization (forms), token, then a connected client.
 */
export async function connectWithOAuth(
  mcpUrl: string,
  username: string,
  log: string[],
  fetchFn: typeof fetch = fetch,
  provider = new TestOAuthProvider(),
): Promise<{ client: Client; provider: TestOAuthProvider }> {
  const options = { authProvider: provider, fetch: recordingFetch(log, fetchFn) };
  const first = new Client({ name: 'gateway-e2e', version: '1.0.0' });
  const refused = await first.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), options)).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(refused instanceof UnauthorizedError) || !provider.authorizationUrl)
    throw new Error(`expected the SDK to start authorization, got ${String(refused)}\n${log.join('\n')}`);
  log.push(`GET ${provider.authorizationUrl.origin}${provider.authorizationUrl.pathname} (browser)`);
  const redirect = await completeAuthorization(provider.authorizationUrl, username, fetchFn);
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`no code in ${redirect.href}`);
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), options);
  await transport.finishAuth(code);
  const client = new Client({ name: 'gateway-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), options));
  return { client, provider };
}
