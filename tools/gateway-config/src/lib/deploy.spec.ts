// The hand-written production files under deploy/: the properties the issue asks for, checked as text.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'dotenv';
import { PUBLIC_NETWORK } from './compose';

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
