import type { GatewayTopology, ResolvedService } from '@gateway/catalog';
import { toLabels, type Labels } from './labels';
import { MIDDLEWARE, type TraefikDynamicConfig, traefikDynamicConfig } from './traefik-config';

/** Stands for `${BASE_DOMAIN}` while the catalog resolves (it validates the domain); compose interpolates the real one. */
export const DOMAIN_PLACEHOLDER = 'base-domain.invalid';
/** Traefik's network, named so that its static configuration can point the Docker provider at it. */
export const PUBLIC_NETWORK = 'mcp-gateway-public';
const AUTH_PORT = 3000;

/** Environment every Node container gets; secrets and policy come from `.env` (env_file). */
const nodeEnvironment = (port: number) => ({
  NODE_ENV: 'production',
  HOST: '0.0.0.0',
  PORT: String(port),
  ROUTING_MODE: 'subdomain',
  BASE_DOMAIN: '${BASE_DOMAIN:?set BASE_DOMAIN in .env}',
  PUBLIC_SCHEME: 'https',
  REDIS_URL: 'redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}@redis:6379/0',
});

/** Built from the one multi-stage Dockerfile, one image per app. */
const nodeService = (
  app: string,
  port: number,
  labels: Labels,
  extra: { environment?: Record<string, string>; volumes?: string[] } = {},
) => ({
  build: { context: '.', dockerfile: 'deploy/Dockerfile', args: { APP: app } },
  image: `mcp-oauth-gateway/${app}:latest`,
  restart: 'unless-stopped',
  env_file: ['.env'],
  ...(extra.volumes ? { volumes: extra.volumes } : {}),
  environment: { ...nodeEnvironment(port), ...extra.environment },
  depends_on: { redis: { condition: 'service_healthy' } },
  networks: ['public', 'internal'],
  labels: withDomain(labels),
});

/**
 * The production `docker-compose.yml`: Traefik (Let's Encrypt, Docker provider), Redis (password, AOF on a
 * named volume), auth and every enabled catalog service, routed by labels in subdomain mode. `topology` must be
 * resolved with `BASE_DOMAIN=${DOMAIN_PLACEHOLDER}`; labels then carry `${BASE_DOMAIN}` for compose to fill in.
 */
export function composeFile(topology: GatewayTopology): Record<string, unknown> {
  const dynamic = traefikDynamicConfig(topology, {
    authUrl: `http://auth:${AUTH_PORT}`,
    upstreamOf: (service) => [`http://${service.name}:${service.port}`],
  });
  const { routers, middlewares, services } = dynamic.http;
  const pick = <T>(record: Record<string, T>, keep: (name: string, value: T) => boolean) =>
    Object.fromEntries(Object.entries(record).filter(([name, value]) => keep(name, value)));
  const serviceLabels = (service: ResolvedService): Labels =>
    toLabels({
      routers: pick(routers, (_name, router) => router.service === service.name),
      middlewares: pick(middlewares, (name) => name === MIDDLEWARE.stripPrefix(service.name)),
      services: { [service.name]: services[service.name] as TraefikDynamicConfig['http']['services'][string] },
    });
  const authLabels = toLabels({
    routers: pick(routers, (_name, router) => router.service === 'auth'),
    middlewares: pick(
      middlewares,
      (name) => !topology.enabled.some((service) => name === MIDDLEWARE.stripPrefix(service.name)),
    ),
    services: { auth: services['auth'] as TraefikDynamicConfig['http']['services'][string] },
  });

  return {
    services: {
      traefik: {
        image: 'traefik:v3.5',
        restart: 'unless-stopped',
        // The static configuration lives in deploy/traefik/traefik.env (one source: environment variables),
        // so that the ACME e-mail can come from .env.
        env_file: ['deploy/traefik/traefik.env'],
        environment: { TRAEFIK_CERTIFICATESRESOLVERS_LETSENCRYPT_ACME_EMAIL: '${ACME_EMAIL:?set ACME_EMAIL in .env}' },
        ports: ['80:80', '443:443'],
        volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro', 'traefik-certificates:/certificates'],
        networks: ['public'],
        healthcheck: {
          test: ['CMD', 'traefik', 'healthcheck', '--ping'],
          interval: '30s',
          timeout: '5s',
          retries: 3,
          start_period: '10s',
        },
      },
      redis: {
        image: 'redis:7.4-alpine',
        restart: 'unless-stopped',
        command: [
          'redis-server',
          '--requirepass',
          '${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}',
          '--appendonly',
          'yes',
          '--appendfsync',
          'everysec',
        ],
        environment: { REDISCLI_AUTH: '${REDIS_PASSWORD}' },
        volumes: ['redis-data:/data'],
        networks: ['internal'],
        healthcheck: {
          test: ['CMD', 'redis-cli', 'ping'],
          interval: '10s',
          timeout: '3s',
          retries: 5,
          start_period: '5s',
        },
      },
      // Traefik reaches auth from Docker's private address pools; its X-Forwarded-For then names the client.
      auth: nodeService('auth', AUTH_PORT, authLabels, {
        environment: { TRUSTED_PROXIES: '${TRUSTED_PROXIES:-172.16.0.0/12,192.168.0.0/16}' },
      }),
      ...Object.fromEntries(
        topology.enabled.map((service) => [service.name, mcpService(service, serviceLabels(service))]),
      ),
    },
    networks: { public: { name: PUBLIC_NETWORK }, internal: { internal: true } },
    volumes: { 'traefik-certificates': {}, 'redis-data': {}, 'mcp-data': {}, 'mcp-workspace': {} },
  };
}

function mcpService(service: ResolvedService, labels: Labels) {
  if (service.kind !== 'stdio') return nodeService(service.app, service.port, labels);
  // The stdio proxy picks its catalog entry by MCP_SERVICE; data and workspace directories live on volumes.
  const spec = JSON.stringify(service.stdio);
  const volumes = [
    ...(spec.includes('${MCP_DATA_DIR}') ? ['mcp-data:/data'] : []),
    ...(spec.includes('${MCP_WORKSPACE_DIR}') ? ['mcp-workspace:/workspace'] : []),
  ];
  return nodeService(service.app, service.port, labels, {
    environment: { MCP_SERVICE: service.name, MCP_DATA_DIR: '/data', MCP_WORKSPACE_DIR: '/workspace' },
    ...(volumes.length ? { volumes } : {}),
  });
}

function withDomain(labels: Labels): Labels {
  return Object.fromEntries(
    Object.entries(labels).map(([key, value]) => [key, value.split(DOMAIN_PLACEHOLDER).join('${BASE_DOMAIN}')]),
  );
}
