import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Test data for the token side, written straight into Redis in the shapes of apps/auth/src/store/records.ts
 * (the black-box way to get clients and codes into every edge state). Tokens are minted and checked over
 * HTTP only.
 */
export const PUBLIC_URL = 'http://localhost:8080';
export const ECHO = `${PUBLIC_URL}/echo-stateless/mcp`;
export const STATEFUL = `${PUBLIC_URL}/echo-stateful/mcp`;
export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';

const sha256hex = (value: string): string => createHash('sha256').update(value).digest('hex');

export type AuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

export interface TestClient {
  readonly clientId: string;
  readonly secret?: string;
  readonly method: AuthMethod;
}

export interface TestUser {
  readonly sub: string;
  readonly provider: 'dev';
  readonly login: string;
  readonly name?: string;
  readonly email?: string;
}

export const alice: TestUser = {
  sub: 'dev:alice',
  provider: 'dev',
  login: 'alice',
  name: 'Alice A.',
  email: 'alice@example.com',
};

export class TokenFixtures {
  public readonly redis: Redis;

  public constructor(
    redisUrl: string,
    public readonly prefix: string,
  ) {
    this.redis = new Redis(redisUrl, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined); // the outage test stops its Redis on purpose; commands still reject
  }

  public async client(
    method: AuthMethod = 'none',
    options: { expiresAt?: number; grantTypes?: readonly string[] } = {},
  ): Promise<TestClient> {
    const clientId = `c-${randomBytes(8).toString('hex')}`;
    const secret = method === 'none' ? undefined : randomBytes(24).toString('base64url');
    const record = {
      clientId,
      ...(secret ? { clientSecretHash: sha256hex(secret) } : {}),
      registrationTokenHash: sha256hex('unused'),
      issuedAt: Math.floor(Date.now() / 1000),
      expiresAt: options.expiresAt ?? 0,
      metadata: {
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: method,
        grant_types: options.grantTypes ?? ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'e2e',
      },
    };
    await this.redis.set(`client:${clientId}`, JSON.stringify(record));
    return { clientId, method, ...(secret ? { secret } : {}) };
  }

  /** An authorization code as consent would store it; returns the code and its PKCE verifier. */
  public async code(
    client: TestClient,
    options: { resource?: string; scope?: string; user?: TestUser; issuedAt?: number; ttl?: number } = {},
  ): Promise<{ code: string; verifier: string }> {
    const code = randomBytes(24).toString('base64url');
    const verifier = randomBytes(40).toString('base64url');
    const record = {
      clientId: client.clientId,
      redirectUri: REDIRECT_URI,
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      codeChallengeMethod: 'S256',
      resource: options.resource ?? ECHO,
      scope: options.scope ?? 'mcp offline_access',
      user: options.user ?? alice,
      issuedAt: options.issuedAt ?? Math.floor(Date.now() / 1000),
    };
    const key = `code:${sha256hex(code)}`;
    if (options.ttl === 0) await this.redis.set(key, JSON.stringify(record));
    else await this.redis.set(key, JSON.stringify(record), 'EX', options.ttl ?? 60);
    return { code, verifier };
  }

  public close(): void {
    this.redis.disconnect();
  }
}

export interface FormResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** POSTs a form with the client's credentials in the way it registered. */
export async function postForm(
  baseUrl: string,
  path: string,
  client: TestClient | undefined,
  fields: Record<string, string>,
): Promise<FormResult> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const form = new URLSearchParams(fields);
  if (client?.method === 'client_secret_basic') {
    headers['authorization'] =
      `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret ?? '')}`).toString('base64')}`;
  } else if (client) {
    form.set('client_id', client.clientId);
    if (client.method === 'client_secret_post') form.set('client_secret', client.secret ?? '');
  }
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: form.toString() });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Redeems a code with the right redirect_uri and verifier (overridable). */
export function redeem(
  baseUrl: string,
  client: TestClient,
  grant: { code: string; verifier: string },
  extra: Record<string, string> = {},
): Promise<FormResult> {
  return postForm(baseUrl, '/token', client, {
    grant_type: 'authorization_code',
    code: grant.code,
    redirect_uri: REDIRECT_URI,
    code_verifier: grant.verifier,
    ...extra,
  });
}

export function refresh(
  baseUrl: string,
  client: TestClient,
  refreshToken: string,
  extra: Record<string, string> = {},
): Promise<FormResult> {
  return postForm(baseUrl, '/token', client, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

/** A ForwardAuth call as Traefik makes it for a request to `mcpUrl`. */
export async function verify(
  baseUrl: string,
  token: string | undefined,
  mcpUrl = ECHO,
  /** MCP 2026-07-28 request headers Traefik forwards (authRequestHeaders): Mcp-Method, Mcp-Name. */
  mcp: Record<string, string> = {},
): Promise<Response> {
  const url = new URL(mcpUrl);
  const headers: Record<string, string> = {
    ...mcp,
    'x-forwarded-method': 'POST',
    'x-forwarded-proto': url.protocol.replace(':', ''),
    'x-forwarded-host': url.host,
    'x-forwarded-uri': url.pathname,
  };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return fetch(`${baseUrl}/verify`, { headers });
}

/** Whether the service's output comes to contain `text` (log lines are written asynchronously). */
export async function logged(service: { output(): string }, text: string, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!service.output().includes(text)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
