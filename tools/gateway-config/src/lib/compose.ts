import {
  envKeyOf,
  type GatewayTopology,
  type ResolvedService,
  type ServiceDefinition,
  SERVICES,
} from '@gateway/catalog';
import { toLabels, type Labels } from './labels';
import { redisAclUsers, redisUserArguments } from './redis-acl';
import { METRICS_PORT } from './prometheus';
import { MIDDLEWARE, type TraefikDynamicConfig, traefikDynamicConfig } from './traefik-config';

/** Stands for `${BASE_DOMAIN}` while the catalog resolves (it validates the domain); compose interpolates the real one. */
export const DOMAIN_PLACEHOLDER = 'base-domain.invalid';
/** Traefik's network, named so that its static configuration can point the Docker provider at it. */
export const PUBLIC_NETWORK = 'mcp-gateway-public';
const AUTH_PORT = 3000;
const EGRESS_PROXY_PORT = 3128;

/** docs/security.md, "Containers": no capability, no setuid escalation, a read-only root (writable volumes and /tmp only). */
const HARDENED = {
  cap_drop: ['ALL'],
  security_opt: ['no-new-privileges:true'],
  read_only: true,
  tmpfs: ['/tmp'],
};

/** Keys an MCP container may receive from `.env` (passed through only when set); never auth's secrets. */
const COMMON_KEYS = [
  'LOG_LEVEL',
  'LOG_FORMAT',
  'SHUTDOWN_TIMEOUT',
  'MCP_ALLOWED_ORIGINS',
  'MCP_MAX_BODY_BYTES',
  // Per-tool authorization and its audit stream (docs/authorization.md); the policy file is mounted by an override.
  'MCP_POLICY_FILE',
  'AUDIT_LOG_FILE',
];
const KEYS_OF_APP: Record<string, readonly string[]> = {
  'echo-stateless': [],
  'echo-stateful': ['MCP_SESSION_IDLE_TIMEOUT', 'STORAGE_PREFIX'],
  fetchs: [
    'STORAGE_PREFIX',
    'FETCH_ALLOW',
    'FETCH_DENY',
    'FETCH_DNS_SERVERS',
    'FETCH_MAX_BYTES',
    'FETCH_MAX_REDIRECTS',
    'FETCH_CONNECT_TIMEOUT_MS',
    'FETCH_TIMEOUT_MS',
    'FETCH_CONVERT_TIMEOUT_MS',
    'FETCH_ROBOTS',
    'FETCH_USER_AGENT',
    'FETCH_RATE_LIMIT',
  ],
  time: ['TIME_LOCAL_TIMEZONE'],
  tmux: ['TMUX_IDLE_TIMEOUT'],
  'stdio-proxy': [
    'MCP_SESSION_IDLE_TIMEOUT',
    'STDIO_CHILD_PER',
    'STDIO_DATA_SCOPE',
    'STDIO_MAX_CHILDREN',
    'STDIO_MAX_CHILDREN_PER_USER',
    'STDIO_MEMORY_BUDGET_MB',
  ],
};
const passThrough = (keys: readonly string[]) => Object.fromEntries(keys.map((key) => [key, null]));
/**
 * Left out of `docker-compose.yml`, turned on by an overlay each (`deploy/compose/<name>.yml`): test servers
 * (`productionOptIn`) and services off by default (a browser, a shell, a second fetcher).
 */
export const composeOptIn = (service: ServiceDefinition): boolean =>
  service.productionOptIn === true || !service.enabledByDefault;
/** The internal network a service shares with Traefik only. */
const serviceNetwork = (name: string) => `mcp-${name}`;

/** Environment every Node container gets; secrets and policy come from `.env` (env_file). */
const nodeEnvironment = (port: number) => ({
  NODE_ENV: 'production',
  HOST: '0.0.0.0',
  PORT: String(port),
  // Prometheus metrics on the internal networks only: no port mapping, no Traefik router (docs/operations.md).
  METRICS_PORT: String(METRICS_PORT),
  ROUTING_MODE: 'subdomain',
  BASE_DOMAIN: '${BASE_DOMAIN:?set BASE_DOMAIN in .env}',
  PUBLIC_SCHEME: 'https',
});

/** Compose interpolation of a required .env key. */
const required = (key: string) => `\${${key}:?set ${key} in .env}`;
/** The storage prefix the Redis users are limited to (STORAGE_PREFIX, same default as libs/storage). */
const STORAGE_PREFIX = '${STORAGE_PREFIX:-mcp-gw:}';
/** A container's REDIS_URL: its own ACL user (redis-acl.ts). */
const redisUrl = (user: string, passwordKey: string) => `redis://${user}:${required(passwordKey)}@redis:6379/0`;

/** Built from the one multi-stage Dockerfile, one image per app. Only auth reads `.env` whole (env_file). */
const nodeService = (
  app: string,
  port: number,
  labels: Labels | undefined,
  extra: {
    environment?: Record<string, string | null>;
    volumes?: string[];
    networks?: string[];
    envFile?: boolean;
    /** Debian packages its image adds (catalog `packages`), and the image's own name then. */
    packages?: { readonly image: string; readonly names: readonly string[] };
    /** Its Redis ACL user, if it keeps state in Redis. */
    redis?: { name: string; passwordKey: string };
  } = {},
) => {
  const base = nodeEnvironment(port);
  const redis = extra.redis;
  return {
    build: {
      context: '.',
      dockerfile: 'deploy/Dockerfile',
      args: { APP: app, ...(extra.packages ? { PACKAGES: extra.packages.names.join(' ') } : {}) },
    },
    image: `mcp-oauth-gateway/${extra.packages?.image ?? app}:latest`,
    restart: 'unless-stopped',
    ...(extra.envFile === false ? {} : { env_file: ['.env'] }),
    ...(extra.volumes ? { volumes: extra.volumes } : {}),
    environment: {
      ...base,
      ...(redis ? { REDIS_URL: redisUrl(redis.name, redis.passwordKey) } : {}),
      ...extra.environment,
    },
    ...(redis ? { depends_on: { redis: { condition: 'service_healthy' } } } : {}),
    networks: extra.networks ?? ['public', 'internal'],
    ...(labels ? { labels: withDomain(labels) } : {}),
    ...HARDENED,
  };
};

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

  const needsEgressProxy = topology.enabled.some(
    (service) => service.kind === 'stdio' && service.egress === 'internet',
  );
  return {
    services: {
      traefik: {
        image: 'traefik:v3.5',
        restart: 'unless-stopped',
        // The static configuration lives in deploy/traefik/traefik.env (one source: environment variables),
        // so that the ACME e-mail can come from .env.
        env_file: ['deploy/traefik/traefik.env'],
        environment: {
          TRAEFIK_CERTIFICATESRESOLVERS_LETSENCRYPT_ACME_EMAIL: '${ACME_EMAIL:?set ACME_EMAIL in .env}',
          // Read-only Docker API: Traefik never holds the socket (a root-equivalent) itself.
          TRAEFIK_PROVIDERS_DOCKER_ENDPOINT: 'tcp://docker-socket-proxy:2375',
        },
        ports: ['80:80', '443:443'],
        volumes: ['traefik-certificates:/certificates'],
        // Its own network, one internal network per MCP service, and the Docker API through the socket proxy.
        networks: ['public', 'docker-api', ...topology.enabled.map((service) => serviceNetwork(service.name))],
        ...HARDENED,
        cap_add: ['NET_BIND_SERVICE'], // ports 80 and 443
        healthcheck: {
          test: ['CMD', 'traefik', 'healthcheck', '--ping'],
          interval: '30s',
          timeout: '5s',
          retries: 3,
          start_period: '10s',
        },
      },
      // GET-only access to the containers list (POST=0): what Traefik's Docker provider reads, nothing more.
      'docker-socket-proxy': {
        image: 'tecnativa/docker-socket-proxy:v0.3.0',
        restart: 'unless-stopped',
        environment: { CONTAINERS: '1', NETWORKS: '1', EVENTS: '1', VERSION: '1', POST: '0' },
        volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'],
        networks: ['docker-api'],
        // Not read-only: HAProxy writes its configuration at start.
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
      },
      redis: {
        image: 'redis:7.4-alpine',
        restart: 'unless-stopped',
        user: 'redis', // the image's entrypoint then skips its chown and gosu (no capability needed)
        // One ACL user per container (redis-acl.ts, docs/security.md): auth alone reads keys and grants.
        command: [
          'redis-server',
          '--appendonly',
          'yes',
          '--appendfsync',
          'everysec',
          ...redisUserArguments(redisAclUsers(topology.enabled, STORAGE_PREFIX), required),
        ],
        volumes: ['redis-data:/data'],
        networks: ['internal'],
        ...HARDENED,
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
        redis: { name: 'auth', passwordKey: 'REDIS_PASSWORD' },
        environment: {
          TRUSTED_PROXIES: '${TRUSTED_PROXIES:-172.16.0.0/12,192.168.0.0/16}',
          // Services left out of this file (their overlay names them) are not advertised either.
          ...Object.fromEntries(
            SERVICES.filter(composeOptIn).map((service) => [
              `MCP_${envKeyOf(service.name)}_ENABLED`,
              String(topology.enabled.some((enabled) => enabled.name === service.name)),
            ]),
          ),
        },
      }),
      ...Object.fromEntries(
        topology.enabled.map((service) => [service.name, mcpService(service, serviceLabels(service))]),
      ),
      ...(needsEgressProxy
        ? {
            'egress-proxy': nodeService('egress-proxy', EGRESS_PROXY_PORT, undefined, {
              envFile: false,
              networks: ['egress', 'outbound'],
              environment: passThrough(['LOG_LEVEL', 'EGRESS_ALLOW', 'EGRESS_DENY', 'EGRESS_DNS_SERVERS']),
            }),
          }
        : {}),
      // `docker compose --profile monitoring up -d`: Prometheus, scraping what deploy/prometheus/prometheus.yml
      // (generated from the catalog) lists; its UI on the host's loopback only (an SSH tunnel reaches it). It joins
      // each service's own network to reach the metrics port; no service is on a network with another service.
      prometheus: {
        image: 'prom/prometheus:v3.5.0',
        ...HARDENED,
        profiles: ['monitoring'],
        restart: 'unless-stopped',
        volumes: [
          './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
          'prometheus-data:/prometheus',
        ],
        ports: ['127.0.0.1:9090:9090'],
        networks: ['public', 'internal', ...topology.enabled.map((service) => serviceNetwork(service.name))],
      },
    },
    networks: {
      public: { name: PUBLIC_NETWORK },
      internal: { internal: true },
      'docker-api': { internal: true },
      // The way out for fetchs and the egress proxy, which apply the address policy themselves.
      outbound: {},
      ...(needsEgressProxy ? { egress: { internal: true } } : {}),
      ...Object.fromEntries(
        topology.enabled.map((service) => [
          serviceNetwork(service.name),
          { internal: true, name: `mcp-gateway-${service.name}` },
        ]),
      ),
    },
    volumes: {
      'traefik-certificates': {},
      'redis-data': {},
      'mcp-data': {},
      'mcp-workspace': {},
      'prometheus-data': {},
    },
  };
}

/**
 * An MCP service: its own internal network shared with Traefik only (docs/security.md, "Egress"), Redis only for
 * apps that keep state there, the outbound network for fetchs (it applies the address policy itself), the egress
 * network for `internet` stdio servers (they reach the egress proxy and nothing else). No `.env`: only its own keys.
 */
function mcpService(service: ResolvedService, labels: Labels) {
  const redis = redisAclUsers([service], STORAGE_PREFIX).find((user) => user.name === service.name);
  const networks = [
    serviceNetwork(service.name),
    ...(redis ? ['internal'] : []),
    ...(service.egress === 'internet' ? [service.kind === 'stdio' ? 'egress' : 'outbound'] : []),
  ];
  const common = { envFile: false, networks, ...(redis ? { redis } : {}) };
  const own = passThrough([...COMMON_KEYS, ...(KEYS_OF_APP[service.app] ?? [])]);
  const routed = { ...labels, 'traefik.docker.network': `mcp-gateway-${service.name}` };
  const packages = service.packages?.length ? { packages: { image: imageName(service), names: service.packages } } : {};
  if (service.app === 'tmux')
    // The users' homes on the data volume; the container's network (Traefik only) keeps the shells off the network.
    return nodeService(service.app, service.port, routed, {
      ...common,
      ...packages,
      environment: { ...own, MCP_DATA_DIR: '/data', TMUX_NETNS: 'off' },
      volumes: ['mcp-data:/data'],
    });
  if (service.kind !== 'stdio') return nodeService(service.app, service.port, routed, { ...common, environment: own });
  // The stdio proxy picks its catalog entry by MCP_SERVICE; data and workspace directories live on volumes.
  const spec = JSON.stringify(service.stdio);
  const volumes = [
    ...(spec.includes('${MCP_DATA_DIR}') ? ['mcp-data:/data'] : []),
    ...(spec.includes('${MCP_WORKSPACE_DIR}') ? ['mcp-workspace:/workspace'] : []),
  ];
  return nodeService(service.app, service.port, routed, {
    ...common,
    environment: {
      ...own,
      MCP_SERVICE: service.name,
      MCP_DATA_DIR: '/data',
      MCP_WORKSPACE_DIR: '/workspace',
      // No unshare without CAP_SYS_ADMIN in a container: the container's networks isolate the child instead.
      STDIO_NETNS: 'off',
      ...(service.egress === 'internet' ? { EGRESS_PROXY_URL: `http://egress-proxy:${EGRESS_PROXY_PORT}` } : {}),
    },
    ...(volumes.length ? { volumes } : {}),
    ...packages,
  });
}

/** The image of a service: its app's, or its own where it adds Debian packages (`stdio-proxy-playwright`). */
export function imageName(service: Pick<ServiceDefinition, 'app' | 'name' | 'packages'>): string {
  return service.packages?.length ? `${service.app}-${service.name}` : service.app;
}

function withDomain(labels: Labels): Labels {
  return Object.fromEntries(
    Object.entries(labels).map(([key, value]) => [key, value.split(DOMAIN_PLACEHOLDER).join('${BASE_DOMAIN}')]),
  );
}

/**
 * The compose overlay that turns on what `base` leaves out (`COMPOSE_FILE=docker-compose.yml:<overlay>` in .env, one
 * key): the services, networks and volumes missing from `base`, and the keys of shared services that differ (auth's
 * MCP_<NAME>_ENABLED and labels, Traefik's networks). Compose merges mappings by key and sequences by union.
 */
export function composeOverlay(full: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  type Entries = Record<string, Record<string, unknown>>;
  const missing = (section: string) => {
    const inFull = (full[section] ?? {}) as Entries;
    const inBase = (base[section] ?? {}) as Entries;
    return Object.fromEntries(Object.entries(inFull).filter(([name]) => !(name in inBase)));
  };
  const fullServices = full['services'] as Entries;
  const baseServices = base['services'] as Entries;
  const changed = Object.entries(fullServices).flatMap(([name, service]) => {
    const before = baseServices[name];
    if (!before) return [];
    const delta: Record<string, unknown> = {};
    for (const key of ['environment', 'labels'] as const) {
      const now = (service[key] ?? {}) as Record<string, unknown>;
      const was = (before[key] ?? {}) as Record<string, unknown>;
      const diff = Object.fromEntries(Object.entries(now).filter(([entry, value]) => was[entry] !== value));
      if (Object.keys(diff).length) delta[key] = diff;
    }
    const networks = ((service['networks'] ?? []) as string[]).filter(
      (network) => !((before['networks'] ?? []) as string[]).includes(network),
    );
    if (networks.length) delta['networks'] = networks;
    return Object.keys(delta).length ? [[name, delta] as const] : [];
  });
  return {
    services: { ...Object.fromEntries(changed), ...missing('services') },
    networks: missing('networks'),
    volumes: missing('volumes'),
  };
}
