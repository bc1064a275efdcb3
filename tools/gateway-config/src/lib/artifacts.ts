import { envKeyOf, type GatewayTopology, resolveTopology, SERVICES } from '@gateway/catalog';
import { stringify } from 'yaml';
import { composeFile, composeOptIn, composeOverlay, DOMAIN_PLACEHOLDER } from './compose';
import { type KubernetesOptions, kubernetesManifests, redisManifests } from './kubernetes';
import { prometheusConfig } from './prometheus';
import { type TraefikDynamicConfig, traefikDynamicConfig } from './traefik-config';

const HEADER = (command: string) =>
  `# GENERATED from the service catalog (libs/catalog) by tools/gateway-config. Do not edit by hand:\n# change the catalog or the generator, then run \`${command}\`. A test fails when this file drifts.\n`;
const REGENERATE = 'npx nx run gateway-config:generate';

/** YAML as committed: long lines kept whole, keys in insertion order. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** One machine (`npm start`, the dev edge, bare-metal Traefik): auth and services on 127.0.0.1 per the catalog. */
export function localDynamicConfig(env: Record<string, string | undefined>): TraefikDynamicConfig {
  const topology = resolveTopology(env);
  return traefikDynamicConfig(topology, {
    authUrl: topology.authUpstreamUrls[0] as string,
    authUrls: topology.authUpstreamUrls,
    healthCheckInterval: '1s',
    // The services read the same keys (libs/mcp-session McpEnv, mcp-http.module.ts).
    mcpOrigins: {
      allowed: (env['MCP_ALLOWED_ORIGINS'] ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      loopback: env['NODE_ENV'] !== 'production',
    },
  });
}

/** The domain of the committed Kubernetes manifests; `--kubernetes DIR` writes them for yours (docs/kubernetes.md). */
export const KUBERNETES_EXAMPLE_DOMAIN = 'example.com';

/**
 * The Kubernetes manifests for a topology, by path under the output directory: one file per workload, the Traefik
 * CRDs, the NetworkPolicies, a kustomization listing them, and the optional Redis under `redis/`.
 */
export function kubernetesArtifacts(
  topology: GatewayTopology,
  command: string,
  options: KubernetesOptions = {},
): Record<string, string> {
  const files = kubernetesManifests(topology, options);
  const documents = (manifests: readonly unknown[]) => manifests.map(toYaml).join('---\n');
  const kustomization = (resources: string[]) =>
    toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });
  return {
    ...Object.fromEntries(
      Object.entries(files).map(([path, manifests]) => [path, HEADER(command) + documents(manifests)]),
    ),
    'kustomization.yaml': HEADER(command) + kustomization(Object.keys(files)),
    'redis/redis.yaml': HEADER(command) + documents(redisManifests(options)),
    'redis/kustomization.yaml': HEADER(command) + kustomization(['redis.yaml']),
  };
}

/**
 * Every committed generated file, from the catalog's defaults (never from a developer's .env):
 * - `docker-compose.yml`: production, subdomain mode, `${BASE_DOMAIN}` filled in by compose;
 * - `deploy/prometheus/prometheus.yml`: the `monitoring` profile's scrape targets (Traefik, auth, each service);
 * - `deploy/traefik/dynamic/path.yml`: path mode on http://localhost:8080 (what `npm start` serves);
 * - `deploy/traefik/dynamic/subdomain.yml`: subdomain mode on http://NAME.localhost:8080;
 * - `deploy/kubernetes/**`: subdomain mode on https://NAME.example.com.
 */
export function generatedArtifacts(): Record<string, string> {
  const subdomain = { ROUTING_MODE: 'subdomain', BASE_DOMAIN: DOMAIN_PLACEHOLDER, PUBLIC_SCHEME: 'https' };
  // Test servers and services off by default are left out of docker-compose.yml; an overlay each turns them on.
  const optIn = SERVICES.filter(composeOptIn);
  const off = Object.fromEntries(optIn.map((service) => [`MCP_${envKeyOf(service.name)}_ENABLED`, 'false']));
  const productionTopology = resolveTopology({ ...subdomain, ...off });
  const production = composeFile(productionTopology);
  const overlays = Object.fromEntries(
    optIn.map((service) => {
      const others = { ...off, [`MCP_${envKeyOf(service.name)}_ENABLED`]: 'true' };
      const withIt = composeFile(resolveTopology({ ...subdomain, ...others }));
      return [
        `deploy/compose/${service.name}.yml`,
        HEADER(REGENERATE) +
          `# Turns on ${service.name} (off by default in production): COMPOSE_FILE=docker-compose.yml:deploy/compose/${service.name}.yml in .env\n` +
          toYaml(composeOverlay(withIt, production)),
      ];
    }),
  );
  return {
    'docker-compose.yml': HEADER(REGENERATE) + toYaml(production),
    ...overlays,
    'deploy/prometheus/prometheus.yml': HEADER(REGENERATE) + toYaml(prometheusConfig(productionTopology)),
    'deploy/traefik/dynamic/path.yml': HEADER(REGENERATE) + toYaml(localDynamicConfig({})),
    'deploy/traefik/dynamic/subdomain.yml':
      HEADER(REGENERATE) +
      toYaml(localDynamicConfig({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'localhost:8080', PUBLIC_SCHEME: 'http' })),
    ...Object.fromEntries(
      Object.entries(
        kubernetesArtifacts(
          resolveTopology({
            ROUTING_MODE: 'subdomain',
            BASE_DOMAIN: KUBERNETES_EXAMPLE_DOMAIN,
            PUBLIC_SCHEME: 'https',
          }),
          REGENERATE,
        ),
      ).map(([path, content]) => [`deploy/kubernetes/${path}`, content]),
    ),
  };
}
