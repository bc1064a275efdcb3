import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { freePort, type ServiceProcess, startService } from '@gateway/testing';
import { Redis } from 'ioredis';

/**
 * Helpers for the authorization-side e2e tests: auth started with its own public URL (so that the
 * upstream callback ISSUER/callback reaches it), registration over POST /register, PKCE, and a tiny
 * cookie-keeping HTTP "browser" that follows nothing on its own (each hop is asserted).
 */
export interface AuthUnderTest {
  readonly auth: ServiceProcess;
  /** The issuer = PUBLIC_URL = where auth listens. */
  readonly issuer: string;
  /** STORAGE_PREFIX of this instance (keys in `redis` carry it). */
  readonly prefix: string;
  readonly redis: Redis;
  stop(): Promise<void>;
}

export async function startAuth(name: string, env: Record<string, string> = {}): Promise<AuthUnderTest> {
  const port = env['PORT'] ? Number(env['PORT']) : await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const prefix = `e2e-${name}-${process.pid}-${port}:`;
  const redisUrl = process.env['REDIS_URL'] ?? '';
  const auth = await startService('auth', {
    env: {
      REDIS_URL: redisUrl,
      STORAGE_PREFIX: prefix,
      PORT: String(port),
      PUBLIC_URL: issuer,
      REGISTRATION_RATE_LIMIT: '0',
      ...env,
    },
  });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  return {
    auth,
    issuer,
    prefix,
    redis,
    stop: async () => {
      await auth.stop();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

export const sha256hex = (value: string): string => createHash('sha256').update(value).digest('hex');

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Registers a public client through RFC 7591 POST /register; returns its client_id. */
export async function registerClient(issuer: string, metadata: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...metadata }),
  });
  const body = (await response.json()) as { client_id?: string };
  if (response.status !== 201 || !body.client_id)
    throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`);
  return body.client_id;
}

export function authorizeUrl(issuer: string, params: Record<string, string | undefined>): string {
  // Under the issuer's path: a service's own authorization server is `<issuer>/as/<name>` (RFC 8414 §3.1).
  const url = new URL(`${issuer.replace(/\/$/, '')}/authorize`);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

export interface Hop {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The Location header resolved against the request URL. */
  readonly location?: string;
}

/** A cookie-keeping HTTP client (cookies kept per host:port, like separate sites), one request per call. */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  public get(url: string): Promise<Hop> {
    return this.send(url, 'GET');
  }

  public post(url: string, form: Record<string, string>): Promise<Hop> {
    return this.send(url, 'POST', new URLSearchParams(form).toString());
  }

  public forget(): void {
    this.jar.clear();
  }

  private send(url: string, method: string, body?: string): Promise<Hop> {
    const target = new URL(url);
    const cookies = this.jar.get(target.host) ?? new Map<string, string>();
    const headers: Record<string, string> = {};
    if (cookies.size > 0) headers['cookie'] = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    return new Promise((resolve, reject) => {
      const req = httpRequest(target, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair] = line.split(';');
            const index = (pair ?? '').indexOf('=');
            if (index > 0)
              cookies.set((pair as string).slice(0, index).trim(), (pair as string).slice(index + 1).trim());
          }
          this.jar.set(target.host, cookies);
          const location = res.headers.location ? new URL(res.headers.location, target).href : undefined;
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ...(location ? { location } : {}),
          });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

/** The value of a hidden/named input in a server-rendered form. */
export function formValue(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!match) throw new Error(`no input ${name} in page:\n${page.slice(0, 2000)}`);
  return match[1] as string;
}

export function query(url: string | undefined): Record<string, string> {
  if (!url) throw new Error('no redirect');
  return Object.fromEntries(new URL(url).searchParams);
}
