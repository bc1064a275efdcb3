import type { TraefikDynamicConfig } from './traefik-config';

/** A piece of dynamic configuration as the Docker provider reads it from one container's labels. */
export type Labels = Record<string, string>;

/** Objects whose keys are names (routers, middlewares, services, header maps): their keys keep their case. */
const NAME_MAPS = new Set(['routers', 'middlewares', 'services', 'customRequestHeaders', 'customResponseHeaders']);

/**
 * Dynamic configuration → `traefik.*` labels (Traefik's label syntax: dotted lower-case paths, lists comma-joined).
 * A load balancer's `servers: [{url}]` becomes `server.port` + `server.scheme`, since the Docker provider
 * already knows the container's address (every container of a scaled service becomes one server).
 */
export function toLabels(config: Partial<TraefikDynamicConfig['http']>): Labels {
  const labels: Labels = { 'traefik.enable': 'true' };
  const walk = (value: unknown, path: string[], parentIsNameMap: boolean): void => {
    if (Array.isArray(value)) {
      labels[path.join('.')] = value.join(',');
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        walk(child, [...path, parentIsNameMap ? key : key.toLowerCase()], !parentIsNameMap && NAME_MAPS.has(key));
      }
    } else {
      labels[path.join('.')] = String(value);
    }
  };
  const { services, ...rest } = config;
  walk(rest, ['traefik', 'http'], false);
  for (const [name, service] of Object.entries(services ?? {})) {
    const url = new URL(service.loadBalancer.servers[0]?.url ?? '');
    labels[`traefik.http.services.${name}.loadbalancer.server.port`] = url.port;
    labels[`traefik.http.services.${name}.loadbalancer.server.scheme`] = url.protocol.replace(':', '');
    for (const [key, value] of Object.entries(service.loadBalancer.healthCheck))
      labels[`traefik.http.services.${name}.loadbalancer.healthcheck.${key.toLowerCase()}`] = value;
  }
  return labels;
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  $ref?: string;
}

/**
 * The inverse, guided by the project's Traefik subset schema: `traefik.http.*` labels of any number of
 * containers → one dynamic configuration object with canonical key spelling and typed values, so that the
 * same JSON schema (unknown keys rejected) validates labels and files alike. Keys the schema does not know
 * are kept verbatim, which is exactly what makes validation fail on a typo.
 */
export function fromLabels(labelSets: readonly Labels[], jsonSchema: object): Record<string, unknown> {
  const schema = jsonSchema as SchemaNode & { definitions?: Record<string, SchemaNode> };
  const resolve = (node: SchemaNode | undefined): SchemaNode | undefined =>
    node?.$ref ? schema.definitions?.[node.$ref.replace('#/definitions/', '')] : node;
  const result: Record<string, unknown> = {};
  for (const labels of labelSets) {
    for (const [key, raw] of Object.entries(labels)) {
      if (!key.startsWith('traefik.') || key === 'traefik.enable' || key.startsWith('traefik.docker.')) continue;
      let node: SchemaNode | undefined = schema;
      let target = result;
      const segments = key.split('.').slice(1);
      segments.forEach((segment, index) => {
        const known =
          node?.properties && Object.keys(node.properties).find((name) => name.toLowerCase() === segment.toLowerCase());
        const name = known ?? segment;
        node = resolve(
          known
            ? node?.properties?.[known]
            : typeof node?.additionalProperties === 'object'
              ? node.additionalProperties
              : undefined,
        );
        if (index === segments.length - 1) {
          target[name] = typed(raw, node);
        } else {
          target = (target[name] ??= {}) as Record<string, unknown>;
        }
      });
    }
  }
  return result;
}

function typed(raw: string, node: SchemaNode | undefined): unknown {
  switch (node?.type) {
    case 'array':
      return raw.split(',').map((item) => item.trim());
    case 'integer':
    case 'number':
      return Number(raw);
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}
