import { type GatewayTopology, publicOrigins, type ResolvedService } from '@gateway/catalog';
import { IDENTITY_HEADERS } from '@gateway/contracts';

/** The subset of Traefik v3's dynamic configuration the gateway uses (schema: traefik-subset.schema.json). */
export interface TraefikRouter {
  rule: string;
  priority: number;
  entryPoints: string[];
  middlewares?: string[];
  service: string;
  tls?: { certResolver: string };
}

export interface TraefikMiddleware {
  forwardAuth?: {
    address: string;
    authRequestHeaders: string[];
    authResponseHeaders: string[];
    trustForwardHeader: boolean;
  };
  headers?: {
    accessControlAllowMethods?: string[];
    accessControlAllowHeaders?: string[];
    accessControlExposeHeaders?: string[];
    accessControlAllowOriginList?: string[];
    accessControlAllowOriginListRegex?: string[];
    accessControlMaxAge?: number;
    addVaryHeader?: boolean;
    customRequestHeaders?: Record<string, string>;
  };
  stripPrefix?: { prefixes: string[] };
  redirectScheme?: { scheme: 'https'; permanent: boolean };
}

export interface TraefikService {
  loadBalancer: {
    servers: Array<{ url: string }>;
    /** Traefik's active health check: a server whose `/readyz` fails gets no new request until it passes again. */
    healthCheck: { path: string; interval: string; timeout: string };
  };
}

export interface TraefikDynamicConfig {
  http: {
    routers: Record<string, TraefikRouter>;
    middlewares: Record<string, TraefikMiddleware>;
    services: Record<string, TraefikService>;
  };
}

export interface TraefikOptions {
  /**
   * Where Traefik reaches auth: `http://auth:3000` in compose, `http://127.0.0.1:3000` on one machine. ForwardAuth
   * takes one address: behind a name (compose, Kubernetes) DNS spreads it; on one machine it is the first replica.
   */
  readonly authUrl: string;
  /** Auth's replicas, the `auth` service's servers; default `[authUrl]`. */
  readonly authUrls?: readonly string[];
  /** Where Traefik reaches a service's replicas; default its catalog `upstreamUrls`. */
  readonly upstreamOf?: (service: ResolvedService) => readonly string[];
  /** Health-check interval (Traefik duration); default `5s`. */
  readonly healthCheckInterval?: string;
  /**
   * `Access-Control-Allow-Origin` list of auth's routes (discovery, /token, /register...); `*` (the default) suits
   * bearer tokens, which are never cookies.
   */
  readonly corsOrigins?: readonly string[];
  /**
   * The MCP services' Origin policy (libs/mcp-session `registerMcpRoute`), which the MCP routes' CORS states too:
   * `allowed` is MCP_ALLOWED_ORIGINS (`*`: any origin), the gateway's own origins are always added, and `loopback`
   * (development: NODE_ENV other than production) adds `http(s)://localhost|127.0.0.1|[::1]` on any port.
   * Default: the gateway's own origins only.
   */
  readonly mcpOrigins?: { readonly allowed: readonly string[]; readonly loopback: boolean };
  /** ACME resolver for https routers (Traefik's static configuration defines it). */
  readonly certResolver?: string;
}

/**
 * Router priorities (higher wins; Traefik's default of "rule length" is never relied on):
 * an MCP route's preflight > any other preflight > discovery > MCP > auth's catch-all > the HTTP→HTTPS redirect.
 */
export const PRIORITY = {
  mcpPreflight: 1100,
  preflight: 1000,
  discovery: 900,
  mcp: 500,
  auth: 100,
  redirect: 1,
} as const;

/** Middleware names, shared by the generated files, the compose labels and the dev edge. */
export const MIDDLEWARE = {
  /** CORS of the MCP routes: the services' Origin policy. */
  cors: 'mcp-cors',
  /** CORS of auth's routes (discovery and the OAuth endpoints): any origin by default. */
  authCors: 'auth-cors',
  stripIdentity: 'strip-identity-headers',
  forwardAuth: 'mcp-auth',
  redirect: 'redirect-to-https',
  stripPrefix: (name: string) => `strip-${name}`,
} as const;

/**
 * Discovery stays public: RFC 9728 §3 (protected-resource metadata, path-inserted and root) and RFC 8414 §3
 * (authorization-server metadata, root and path-inserted; openid-configuration for OIDC-only clients). Auth serves
 * all of it, for every host.
 */
const DISCOVERY = [
  'Path(`/.well-known/oauth-protected-resource`)',
  'PathPrefix(`/.well-known/oauth-protected-resource/`)',
  'Path(`/.well-known/oauth-authorization-server`)',
  // RFC 8414 §3.1: each service's own authorization server, `<issuer>/as/<name>`, path-inserted (docs/auth.md).
  'PathPrefix(`/.well-known/oauth-authorization-server/`)',
  'Path(`/.well-known/openid-configuration`)',
].join(' || ');

/**
 * Paths of auth that the edge never exposes: `/verify` is ForwardAuth's internal target (public, it would be a
 * token oracle and a way to forge X-Forwarded-* context), health probes are for the container runtime.
 */
export const INTERNAL_AUTH_PATHS = ['/verify', '/healthz', '/readyz'] as const;

/**
 * MCP Streamable HTTP headers a browser client sends and must read: 2025-era (MCP 2025-06-18
 * basic/transports: session id, protocol version, resumption) and 2026-07-28 (basic/transports: `Mcp-Method`
 * and `Mcp-Name` mirror the body), W3C Trace Context (`traceparent`, `tracestate`), and `Retry-After` on 503
 * and 429 (RFC 9110 §10.2.3).
 */
export const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Mcp-Session-Id',
  'MCP-Protocol-Version',
  'Last-Event-ID',
  'Mcp-Method',
  'Mcp-Name',
  'traceparent',
  'tracestate',
];
export const CORS_EXPOSE_HEADERS = [
  'Mcp-Session-Id',
  'WWW-Authenticate',
  'Mcp-Method',
  'Mcp-Name',
  'traceparent',
  'Retry-After',
];
/** Request headers ForwardAuth passes to `/verify`: the token, and the 2026-07-28 method/name (for policy). */
export const FORWARD_AUTH_REQUEST_HEADERS = ['Authorization', 'Mcp-Method', 'Mcp-Name'];
/** The loopback origins of development on any port: libs/mcp-session `isLoopbackOrigin`, as Traefik's Go regexp. */
export const LOOPBACK_ORIGIN_REGEX = '^https?://(localhost|127\\.0\\.0\\.1|\\[::1\\])(:[0-9]+)?$';

const identityHeaders = Object.values(IDENTITY_HEADERS).map(canonical);
const host = (name: string) => `Host(\`${name}\`)`;
const hostnameOf = (url: string) => new URL(url).hostname;

/** Catalog + topology → Traefik dynamic configuration, for either routing mode. */
export function traefikDynamicConfig(topology: GatewayTopology, options: TraefikOptions): TraefikDynamicConfig {
  const https = topology.issuer.startsWith('https:');
  const entry = (): Pick<TraefikRouter, 'entryPoints' | 'tls'> =>
    https
      ? { entryPoints: ['websecure'], tls: { certResolver: options.certResolver ?? 'letsencrypt' } }
      : { entryPoints: ['web'] };
  const upstreamOf = options.upstreamOf ?? ((service: ResolvedService) => service.upstreamUrls);
  const loadBalancer = (urls: readonly string[]): TraefikService => ({
    loadBalancer: {
      servers: urls.map((url) => ({ url })),
      // /readyz, never /mcp: a probe creates no session and spawns no child (docs/deployment.md).
      healthCheck: { path: '/readyz', interval: options.healthCheckInterval ?? '5s', timeout: '2s' },
    },
  });
  const routers: Record<string, TraefikRouter> = {};
  const cors = (origins: readonly string[], regex: readonly string[] = []): TraefikMiddleware => ({
    headers: {
      accessControlAllowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      accessControlAllowHeaders: CORS_ALLOW_HEADERS,
      accessControlExposeHeaders: CORS_EXPOSE_HEADERS,
      accessControlAllowOriginList: [...origins],
      ...(regex.length > 0 ? { accessControlAllowOriginListRegex: [...regex] } : {}),
      accessControlMaxAge: 600,
      addVaryHeader: true,
    },
  });
  const mcpOrigins = options.mcpOrigins ?? { allowed: [], loopback: false };
  const middlewares: Record<string, TraefikMiddleware> = {
    [MIDDLEWARE.authCors]: cors(options.corsOrigins ?? ['*']),
    // The preflight says what the service will do (MCP basic/transports: Origin validation, 403 otherwise).
    [MIDDLEWARE.cors]: mcpOrigins.allowed.includes('*')
      ? cors(['*'])
      : cors(
          [...new Set([...mcpOrigins.allowed, ...publicOrigins(topology)])],
          mcpOrigins.loopback ? [LOOPBACK_ORIGIN_REGEX] : [],
        ),
    // An empty value deletes the header: a client cannot pose as someone by sending X-User-Id itself.
    [MIDDLEWARE.stripIdentity]: {
      headers: { customRequestHeaders: Object.fromEntries(identityHeaders.map((name) => [name, ''])) },
    },
    [MIDDLEWARE.forwardAuth]: {
      forwardAuth: {
        address: `${options.authUrl}/verify`,
        // Only the credential goes to /verify (Traefik adds X-Forwarded-Method/-Proto/-Host/-Uri itself).
        authRequestHeaders: FORWARD_AUTH_REQUEST_HEADERS,
        authResponseHeaders: identityHeaders,
        trustForwardHeader: false,
      },
    },
  };
  const services: Record<string, TraefikService> = { auth: loadBalancer(options.authUrls ?? [options.authUrl]) };

  // Every public host: the issuer's, plus each service's own in subdomain mode.
  const hosts = [
    ...new Set([hostnameOf(topology.issuer), ...topology.enabled.map((service) => hostnameOf(service.origin))]),
  ];
  const issuerHost = hostnameOf(topology.issuer);
  for (const name of hosts) {
    const prefix = topology.mode === 'path' ? '' : `${name === issuerHost ? 'auth' : name.split('.')[0]}-`;
    // CORS preflights never carry a token (Fetch spec); the headers middleware answers them itself.
    routers[`${prefix}preflight`] = {
      rule: `${host(name)} && Method(\`OPTIONS\`)`,
      priority: PRIORITY.preflight,
      ...entry(),
      middlewares: [MIDDLEWARE.authCors],
      service: 'auth',
    };
    routers[`${prefix}discovery`] = {
      rule: `${host(name)} && (${DISCOVERY})`,
      priority: PRIORITY.discovery,
      ...entry(),
      middlewares: [MIDDLEWARE.authCors],
      service: 'auth',
    };
  }
  // The issuer host: everything not claimed above (authorize, token, register, revoke, introspect, jwks, the
  // upstream callback, login, consent and error pages) goes to auth, minus its internal paths.
  routers['auth'] = {
    rule: [host(issuerHost), ...INTERNAL_AUTH_PATHS.map((path) => `!Path(\`${path}\`)`)].join(' && '),
    priority: PRIORITY.auth,
    ...entry(),
    middlewares: [MIDDLEWARE.authCors],
    service: 'auth',
  };

  for (const service of topology.enabled) {
    // Everything of the service is behind ForwardAuth: /mcp, /mcp/, the bare origin, any other path.
    const rule =
      topology.mode === 'path'
        ? `${host(hostnameOf(service.origin))} && (Path(\`${service.pathPrefix}\`) || PathPrefix(\`${service.pathPrefix}/\`))`
        : host(hostnameOf(service.origin));
    const chain: string[] = [MIDDLEWARE.cors, MIDDLEWARE.stripIdentity, MIDDLEWARE.forwardAuth];
    if (service.pathPrefix) {
      middlewares[MIDDLEWARE.stripPrefix(service.name)] = { stripPrefix: { prefixes: [service.pathPrefix] } };
      chain.push(MIDDLEWARE.stripPrefix(service.name));
    }
    // Its preflights are answered with the services' Origin policy (discovery keeps auth's, any origin).
    routers[`mcp-${service.name}-preflight`] = {
      rule:
        topology.mode === 'path'
          ? `${rule} && Method(\`OPTIONS\`)`
          : `${rule} && Method(\`OPTIONS\`) && !(${DISCOVERY})`,
      priority: PRIORITY.mcpPreflight,
      ...entry(),
      middlewares: [MIDDLEWARE.cors],
      service: 'auth',
    };
    routers[`mcp-${service.name}`] = {
      rule,
      priority: PRIORITY.mcp,
      ...entry(),
      middlewares: chain,
      service: service.name,
    };
    services[service.name] = loadBalancer(upstreamOf(service));
  }

  if (https) {
    middlewares[MIDDLEWARE.redirect] = { redirectScheme: { scheme: 'https', permanent: true } };
    routers['http-to-https'] = {
      rule: hosts.map(host).join(' || '),
      priority: PRIORITY.redirect,
      entryPoints: ['web'],
      middlewares: [MIDDLEWARE.redirect],
      service: 'auth',
    };
  }
  return { http: { routers, middlewares, services } };
}

/** `x-user-id` → `X-User-Id`, the spelling Traefik's documentation uses. */
function canonical(header: string): string {
  return header.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}
