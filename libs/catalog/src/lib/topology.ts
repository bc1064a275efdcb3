import { ConfigValidationError, EnvDerived } from '@gateway/config';
import { resolvePolicies, type ServicePolicy } from './policy';
import { envKeyOf, SERVICES, type ServiceDefinition } from './services';

export const ROUTING_MODES = ['path', 'subdomain'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

/** A catalog service as this deployment exposes it. */
export interface ResolvedService extends Omit<ServiceDefinition, 'policy'> {
  readonly enabled: boolean;
  /** Its per-tool authorization: the catalog's policy with `MCP_POLICY_FILE` applied (docs/authorization.md). */
  readonly policy: ServicePolicy;
  /** Public origin, e.g. `http://localhost:8080` (path) or `https://echo-stateless.example.com` (subdomain). */
  readonly origin: string;
  /** Path prefix the edge strips before forwarding: `/NAME` in path mode, `` in subdomain mode. */
  readonly pathPrefix: string;
  /** The canonical MCP URL: what clients connect to and the RFC 8707 `resource` / token `aud`. */
  readonly mcpUrl: string;
  /** RFC 9728 §3.1: the well-known URL with the resource's path inserted. */
  readonly resourceMetadataUrl: string;
  /** Where the (first) replica listens for the edge: `upstreamUrls[0]`. */
  readonly upstreamUrl: string;
  /** Every replica's origin, Traefik's `loadBalancer.servers` (`MCP_<NAME>_UPSTREAM`, `*_REPLICAS`). */
  readonly upstreamUrls: readonly string[];
  /** How many replicas run: `MCP_<NAME>_REPLICAS`, else `GATEWAY_REPLICAS`, else 1. */
  readonly replicas: number;
  /** `MCP_<NAME>_ALLOWED_USERS`; `undefined` means the gateway-wide policy applies alone. */
  readonly allowedUsers?: readonly string[];
}

export interface GatewayTopology {
  readonly mode: RoutingMode;
  /** The OAuth issuer, byte-identical in metadata, tokens and `iss` (RFC 8414 §3.3, RFC 9207). */
  readonly issuer: string;
  /** Every catalog service, enabled or not. */
  readonly services: readonly ResolvedService[];
  /** The enabled ones. */
  readonly enabled: readonly ResolvedService[];
  /** Where the edge reaches auth's replicas (`AUTH_UPSTREAM`, `GATEWAY_REPLICAS`). */
  readonly authUpstreamUrls: readonly string[];
}

/** Replica `i` of a service whose first replica listens on `base` gets port `base + REPLICA_PORT_STEP * i`. */
export const REPLICA_PORT_STEP = 10;
const MAX_REPLICAS = 9;

type RawEnv = Readonly<Record<string, string | undefined>>;

const TRUE = /^(true|1|yes|on)$/i;
const FALSE = /^(false|0|no|off)$/i;

/**
 * Resolves the catalog against the environment. Keys:
 * `ROUTING_MODE` (path | subdomain, default path), `PUBLIC_URL` (path mode, default http://localhost:8080),
 * `BASE_DOMAIN` and `PUBLIC_SCHEME` (subdomain mode, scheme default https),
 * `GATEWAY_REPLICAS` (replicas of auth and of every service, default 1),
 * `AUTH_UPSTREAM` (comma list of origins, default http://127.0.0.1:3000),
 * and per service `MCP_<NAME>_ENABLED`, `MCP_<NAME>_UPSTREAM` (comma list), `MCP_<NAME>_REPLICAS`,
 * `MCP_<NAME>_ALLOWED_USERS`, and `MCP_POLICY_FILE` (per-tool authorization, docs/authorization.md).
 */
export function resolveTopology(env: RawEnv = process.env): GatewayTopology {
  const problems: string[] = [];
  const mode = (env['ROUTING_MODE'] || 'path') as RoutingMode;
  if (!ROUTING_MODES.includes(mode)) problems.push(`ROUTING_MODE=${JSON.stringify(mode)}: must be path or subdomain`);

  const scheme = env['PUBLIC_SCHEME'] || 'https';
  if (!/^https?$/.test(scheme)) problems.push(`PUBLIC_SCHEME=${JSON.stringify(scheme)}: must be http or https`);
  const baseDomain = (env['BASE_DOMAIN'] ?? '').trim().toLowerCase();
  let publicUrl = 'http://localhost:8080';
  if (mode === 'subdomain' && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$/.test(baseDomain)) {
    problems.push(
      `BASE_DOMAIN${baseDomain ? `=${JSON.stringify(baseDomain)}` : ' is missing'}: subdomain routing needs a domain such as example.com`,
    );
  }
  if (mode === 'path') {
    const parsed = parseOrigin(env['PUBLIC_URL'] || publicUrl);
    if (parsed) publicUrl = parsed;
    else
      problems.push(
        `PUBLIC_URL=${JSON.stringify(env['PUBLIC_URL'])}: must be an http(s) origin such as http://localhost:8080`,
      );
  }

  const gatewayReplicas = parseReplicas(env, 'GATEWAY_REPLICAS', problems);
  /** `replicas`: asked for by the service's own key (a mismatch with a listed key is an error); `spread`: the default. */
  const upstreams = (key: string, fallback: string, replicas: number | undefined, spread = gatewayReplicas) => {
    const raw = env[key]?.trim();
    const urls = (raw ? splitList(raw) : [fallback]).map((value) => parseOrigin(value));
    if (urls.some((url) => !url)) {
      problems.push(`${key}=${JSON.stringify(raw)}: must be an http(s) origin, or a comma list of them`);
      return [fallback];
    }
    const listed = urls as string[];
    if (listed.length > 1) {
      if (replicas !== undefined && replicas !== listed.length)
        problems.push(`${key} lists ${listed.length} origins but ${replicas} replicas are asked for`);
      return listed;
    }
    // One origin and N replicas: replica i listens REPLICA_PORT_STEP * i ports above it.
    const first = new URL(listed[0] as string);
    const port = Number(first.port || (first.protocol === 'https:' ? 443 : 80));
    return Array.from({ length: replicas ?? spread ?? 1 }, (_unused, index) => {
      const url = new URL(first.href);
      url.port = String(port + REPLICA_PORT_STEP * index);
      return url.origin;
    });
  };
  const authUpstreamUrls = upstreams('AUTH_UPSTREAM', 'http://127.0.0.1:3000', gatewayReplicas);

  const policies = resolvePolicies(SERVICES, env, problems);
  const services = SERVICES.map(({ policy: _policy, ...definition }): ResolvedService => {
    const key = envKeyOf(definition.name);
    const enabledRaw = env[`MCP_${key}_ENABLED`]?.trim();
    let enabled = definition.enabledByDefault;
    if (enabledRaw && TRUE.test(enabledRaw)) enabled = true;
    else if (enabledRaw && FALSE.test(enabledRaw)) enabled = false;
    else if (enabledRaw) problems.push(`MCP_${key}_ENABLED=${JSON.stringify(enabledRaw)}: must be true or false`);

    const upstreamUrls = upstreams(
      `MCP_${key}_UPSTREAM`,
      `http://127.0.0.1:${definition.port}`,
      parseReplicas(env, `MCP_${key}_REPLICAS`, problems),
    );

    const usersRaw = env[`MCP_${key}_ALLOWED_USERS`];
    const allowedUsers = usersRaw === undefined ? undefined : splitList(usersRaw);

    const origin = mode === 'subdomain' ? `${scheme}://${definition.name}.${baseDomain}` : publicUrl;
    const pathPrefix = mode === 'subdomain' ? '' : `/${definition.name}`;
    const mcpPath = `${pathPrefix}/mcp`;
    return {
      ...definition,
      enabled,
      origin,
      pathPrefix,
      mcpUrl: `${origin}${mcpPath}`,
      resourceMetadataUrl: `${origin}/.well-known/oauth-protected-resource${mcpPath}`,
      upstreamUrl: upstreamUrls[0] as string,
      upstreamUrls,
      replicas: upstreamUrls.length,
      ...(allowedUsers ? { allowedUsers } : {}),
      policy: policies.get(definition.name) as ServicePolicy,
    };
  });

  if (problems.length > 0) throw new ConfigValidationError(problems, 'the service catalog');
  const issuer = mode === 'subdomain' ? `${scheme}://auth.${baseDomain}` : publicUrl;
  return { mode, issuer, services, enabled: services.filter((service) => service.enabled), authUpstreamUrls };
}

/** The enabled service a public request addresses (`Host` without port match in subdomain mode, path prefix in path mode). */
export function serviceForRequest(topology: GatewayTopology, host: string, path: string): ResolvedService | undefined {
  const lowerHost = host.toLowerCase();
  return topology.enabled.find((service) => {
    const origin = new URL(service.origin);
    if (origin.host !== lowerHost && origin.hostname !== lowerHost) return false;
    if (!service.pathPrefix) return true;
    return path === service.pathPrefix || path.startsWith(`${service.pathPrefix}/`);
  });
}

/**
 * The deployment's own public origins (the issuer's and every catalog service's): the MCP services always accept
 * them as `Origin`, and the edge's CORS for the MCP routes names them (docs/mcp-services.md, docs/deployment.md).
 */
export function publicOrigins(topology: GatewayTopology): string[] {
  return [...new Set([new URL(topology.issuer).origin, ...topology.services.map((service) => service.origin)])];
}

/**
 * RFC 8707 resource comparison: scheme and host are case-insensitive, one trailing slash is ignored.
 * Returns the enabled service whose canonical MCP URL `resource` names.
 */
export function serviceForResource(topology: GatewayTopology, resource: string): ResolvedService | undefined {
  const wanted = canonicalResource(resource);
  return wanted ? topology.enabled.find((service) => canonicalResource(service.mcpUrl) === wanted) : undefined;
}

function canonicalResource(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.hash || url.search || url.username || url.password) return undefined;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
  } catch {
    return undefined;
  }
}

function parseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) return undefined;
    if (url.pathname !== '/' && url.pathname !== '') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

function parseReplicas(env: RawEnv, key: string, problems: string[]): number | undefined {
  const raw = env[key]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1 && value <= MAX_REPLICAS) return value;
  problems.push(`${key}=${JSON.stringify(raw)}: must be an integer from 1 to ${MAX_REPLICAS}`);
  return undefined;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * Declares the service catalog as part of an env class: `validateEnv` resolves it from the same raw environment
 * as the other keys (ROUTING_MODE, PUBLIC_URL, BASE_DOMAIN, PUBLIC_SCHEME, MCP_<NAME>_*), once, and reports
 * its bad keys with theirs. Consumers inject the validated env instead of reading `process.env`.
 */
export function EnvTopology(): PropertyDecorator {
  return EnvDerived((raw) => resolveTopology(raw));
}
