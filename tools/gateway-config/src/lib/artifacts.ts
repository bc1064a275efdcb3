import { resolveTopology } from '@gateway/catalog';
import { stringify } from 'yaml';
import { composeFile, DOMAIN_PLACEHOLDER } from './compose';
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
  return traefikDynamicConfig(resolveTopology(env), { authUrl: env['AUTH_UPSTREAM'] || 'http://127.0.0.1:3000' });
}

/**
 * Every committed generated file, from the catalog's defaults (never from a developer's .env):
 * - `docker-compose.yml`: production, subdomain mode, `${BASE_DOMAIN}` filled in by compose;
 * - `deploy/prometheus/prometheus.yml`: the `monitoring` profile's scrape targets (Traefik, auth, each service);
 * - `deploy/traefik/dynamic/path.yml`: path mode on http://localhost:8080 (what `npm start` serves);
 * - `deploy/traefik/dynamic/subdomain.yml`: subdomain mode on http://NAME.localhost:8080.
 */
export function generatedArtifacts(): Record<string, string> {
  const production = resolveTopology({
    ROUTING_MODE: 'subdomain',
    BASE_DOMAIN: DOMAIN_PLACEHOLDER,
    PUBLIC_SCHEME: 'https',
  });
  return {
    'docker-compose.yml': HEADER(REGENERATE) + toYaml(composeFile(production)),
    'deploy/prometheus/prometheus.yml': HEADER(REGENERATE) + toYaml(prometheusConfig(production)),
    'deploy/traefik/dynamic/path.yml': HEADER(REGENERATE) + toYaml(localDynamicConfig({})),
    'deploy/traefik/dynamic/subdomain.yml':
      HEADER(REGENERATE) +
      toYaml(localDynamicConfig({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'localhost:8080', PUBLIC_SCHEME: 'http' })),
  };
}
