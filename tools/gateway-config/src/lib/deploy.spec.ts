// The hand-written production files under deploy/: the properties the issue asks for, checked as text.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'dotenv';
import { PUBLIC_NETWORK } from './compose';
import { METRICS_PORT, TRAEFIK_METRICS_PORT } from './prometheus';

const root = resolve(__dirname, '../../../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('deploy/traefik/traefik.env (static configuration)', () => {
  const env = parse(read('deploy/traefik/traefik.env'));

  it("has entry points 80 and 443 and Let's Encrypt over HTTP-01", () => {
    expect(env).toMatchObject({
      TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: ':80',
      TRAEFIK_ENTRYPOINTS_WEBSECURE_ADDRESS: ':443',
      TRAEFIK_CERTIFICATESRESOLVERS_LETSENCRYPT_ACME_HTTPCHALLENGE_ENTRYPOINT: 'web',
    });
    expect(read('docker-compose.yml')).toContain('TRAEFIK_CERTIFICATESRESOLVERS_LETSENCRYPT_ACME_EMAIL: ${ACME_EMAIL');
  });

  it('exposes only labelled containers, no dashboard, and logs no headers', () => {
    expect(env).toMatchObject({
      TRAEFIK_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT: 'false',
      TRAEFIK_API: 'false',
      TRAEFIK_ACCESSLOG_FIELDS_HEADERS_DEFAULTMODE: 'drop',
    });
    expect(Object.keys(env).filter((key) => /INSECURE|DASHBOARD/.test(key))).toEqual([]);
    expect(env['TRAEFIK_PROVIDERS_DOCKER_NETWORK']).toBe(PUBLIC_NETWORK);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');

  it('is multi-stage, installs production dependencies only and runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('checks health on /healthz (no MCP session, no child process)', () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(dockerfile).not.toMatch(/\/mcp/);
  });
});

describe('metrics are never public', () => {
  const env = parse(read('deploy/traefik/traefik.env'));
  const compose = read('docker-compose.yml');

  it("turns Traefik's Prometheus metrics on, on an entry point no router uses", () => {
    expect(env).toMatchObject({
      TRAEFIK_METRICS_PROMETHEUS: 'true',
      TRAEFIK_METRICS_PROMETHEUS_ENTRYPOINT: 'metrics',
      TRAEFIK_ENTRYPOINTS_METRICS_ADDRESS: `:${TRAEFIK_METRICS_PORT}`,
    });
    for (const path of [
      'deploy/traefik/dynamic/path.yml',
      'deploy/traefik/dynamic/subdomain.yml',
      'docker-compose.yml',
    ])
      expect(read(path)).not.toMatch(/entrypoints[^\n]*metrics|entryPoints:\n\s*- metrics/i);
  });

  it('gives every Node container METRICS_PORT and publishes neither it nor Traefik metrics', () => {
    expect(compose).toContain(`METRICS_PORT: "${METRICS_PORT}"`);
    const published = [...compose.matchAll(/^\s+- (\S+:\d+(?::\d+)?)$/gm)].map((match) => match[1]);
    expect(published).toEqual(['80:80', '443:443', '127.0.0.1:9090:9090']);
  });

  it('scrapes Traefik, auth and each compose service from the generated Prometheus configuration', () => {
    const scrape = read('deploy/prometheus/prometheus.yml');
    expect(scrape).toContain(`traefik:${TRAEFIK_METRICS_PORT}`);
    expect(scrape).toContain(`auth:${METRICS_PORT}`);
    expect(scrape).toContain(`echo-stateless:${METRICS_PORT}`);
  });
});
