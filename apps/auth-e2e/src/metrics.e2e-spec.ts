// Prometheus metrics of auth: served on METRICS_PORT only, and the counts move when requests are made.
import { randomBytes } from 'node:crypto';
import { freePort, type ServiceProcess, startService } from '@gateway/testing';
import { PUBLIC_URL, verify } from './support/token-fixtures';

const REDIS_URL = process.env['REDIS_URL'] ?? '';

/** The value of one sample (`name{labels} value`) in a Prometheus text exposition; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(/,(?=[a-zA-Z_]\w*=")/);
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return 0;
}

describe('auth metrics (METRICS_PORT)', () => {
  let auth: ServiceProcess;
  let metricsUrl: string;
  const scrape = async (): Promise<string> => {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  beforeAll(async () => {
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    auth = await startService('auth', {
      env: {
        REDIS_URL,
        STORAGE_PREFIX: `e2e-metrics-${randomBytes(4).toString('hex')}:`,
        PUBLIC_URL,
        METRICS_PORT: String(metricsPort),
      },
    });
  });
  afterAll(() => auth?.stop());

  it('serves the Prometheus text format on its own port, and not on the service port', async () => {
    const text = await scrape();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toContain('process_resident_memory_bytes');
    expect((await fetch(`${auth.url}/metrics`)).status).toBe(404);
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('counts HTTP requests by route template and status, with durations', async () => {
    const route = { method: 'GET', route: '/.well-known/oauth-authorization-server', status: '200' };
    const before = sample(await scrape(), 'http_requests_total', route);
    for (let i = 0; i < 3; i++)
      expect((await fetch(`${auth.url}/.well-known/oauth-authorization-server`)).status).toBe(200);
    const after = await scrape();
    expect(sample(after, 'http_requests_total', route)).toBe(before + 3);
    expect(sample(after, 'http_request_duration_seconds_count', route)).toBe(before + 3);
    // An unknown path is one series, whatever the path (clients cannot create series at will).
    await fetch(`${auth.url}/no-such-${randomBytes(4).toString('hex')}`);
    expect(sample(await scrape(), 'http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThan(0);
  });

  it('counts /verify decisions, registrations and audited events', async () => {
    const before = await scrape();
    expect((await verify(auth.url, undefined)).status).toBe(401);
    expect((await verify(auth.url, 'not-a-jwt')).status).toBe(401);
    const registered = await fetch(`${auth.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' }),
    });
    expect(registered.status).toBe(201);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('auth_verify_decisions_total', { decision: 'invalid_token' })).toBe(2);
    expect(moved('auth_events_total', { event: 'verify.refused' })).toBe(2);
    expect(moved('auth_registrations_total', { kind: 'dcr' })).toBe(1);
    expect(moved('http_requests_total', { method: 'GET', route: '/verify', status: '401' })).toBe(2);
  });
});
