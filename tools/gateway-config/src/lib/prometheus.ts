import type { GatewayTopology } from '@gateway/catalog';

/** Port of `GET /metrics` inside every Node container (METRICS_PORT); compose never publishes it. */
export const METRICS_PORT = 9464;
/** Traefik's own metrics entry point (deploy/traefik/traefik.env); no router uses it, compose never publishes it. */
export const TRAEFIK_METRICS_PORT = 8082;

/**
 * Prometheus' scrape configuration for the compose `monitoring` profile: Traefik, auth and every enabled catalog
 * service, each by its compose service name on the internal metrics port.
 */
export function prometheusConfig(topology: GatewayTopology): Record<string, unknown> {
  const job = (name: string, port: number) => ({
    job_name: name,
    static_configs: [{ targets: [`${name}:${port}`] }],
  });
  return {
    global: { scrape_interval: '15s', evaluation_interval: '15s' },
    scrape_configs: [
      job('traefik', TRAEFIK_METRICS_PORT),
      job('auth', METRICS_PORT),
      ...topology.enabled.map((service) => job(service.name, METRICS_PORT)),
    ],
  };
}
