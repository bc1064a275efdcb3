import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Balancer, type HealthCheck } from './balancer';
import { parseRule, type RequestFacts, type Rule } from './rules';

/** What the edge reads of a Traefik v3 dynamic configuration (the subset tools/gateway-config writes). */
export interface DynamicConfig {
  http: {
    routers?: Record<
      string,
      { rule: string; priority?: number; entryPoints?: string[]; middlewares?: string[]; service: string }
    >;
    middlewares?: Record<string, Middleware>;
    services?: Record<string, { loadBalancer: { servers: Array<{ url: string }>; healthCheck?: HealthCheck } }>;
  };
}

export interface HeadersMiddleware {
  accessControlAllowMethods?: string[];
  accessControlAllowHeaders?: string[];
  accessControlExposeHeaders?: string[];
  accessControlAllowOriginList?: string[];
  /** Go regular expressions (Traefik); the generated ones are also valid JavaScript. */
  accessControlAllowOriginListRegex?: string[];
  accessControlAllowCredentials?: boolean;
  accessControlMaxAge?: number;
  addVaryHeader?: boolean;
  customRequestHeaders?: Record<string, string>;
  customResponseHeaders?: Record<string, string>;
}

export interface ForwardAuthMiddleware {
  address: string;
  authRequestHeaders?: string[];
  authResponseHeaders?: string[];
  trustForwardHeader?: boolean;
}

export type Middleware =
  | { headers: HeadersMiddleware }
  | { forwardAuth: ForwardAuthMiddleware }
  | { stripPrefix: { prefixes: string[] } }
  | { redirectScheme: { scheme: string; permanent?: boolean } };

export interface Route {
  readonly name: string;
  readonly priority: number;
  readonly matches: Rule;
  readonly middlewares: readonly Middleware[];
  /** The router's service: its servers, round robin, minus those failing their health check. */
  readonly balancer: Balancer;
}

/**
 * Compiles the routers of one entry point, highest priority first. Traefik's default priority is the rule's
 * length; ties keep Traefik's order too (longer rule first). Dangling references fail here, at start-up.
 */
export function routingTable(config: DynamicConfig, entryPoint = 'web'): Route[] {
  const { routers = {}, middlewares = {}, services = {} } = config.http ?? {};
  // One balancer per service, shared by every router that names it (as in Traefik).
  const balancers = new Map<string, Balancer>();
  const balancerOf = (name: string): Balancer | undefined => {
    const loadBalancer = services[name]?.loadBalancer;
    if (!loadBalancer?.servers.length) return undefined;
    if (!balancers.has(name))
      balancers.set(
        name,
        new Balancer(
          loadBalancer.servers.map((server) => server.url),
          loadBalancer.healthCheck,
        ),
      );
    return balancers.get(name);
  };
  return Object.entries(routers)
    .filter(([, router]) => !router.entryPoints || router.entryPoints.includes(entryPoint))
    .map(([name, router]): Route => {
      const balancer = balancerOf(router.service.replace(/@\w+$/, ''));
      if (!balancer) throw new Error(`router ${name}: service ${router.service} is not defined`);
      return {
        name,
        priority: router.priority ?? router.rule.length,
        matches: parseRule(router.rule),
        middlewares: (router.middlewares ?? []).map((reference) => {
          const middleware = middlewares[reference.replace(/@\w+$/, '')];
          if (!middleware) throw new Error(`router ${name}: middleware ${reference} is not defined`);
          return middleware;
        }),
        balancer,
      };
    })
    .sort((a, b) => b.priority - a.priority);
}

/** The distinct load balancers of a table (to start and stop their health checks). */
export function balancersOf(table: readonly Route[]): Balancer[] {
  return [...new Set(table.map((route) => route.balancer))];
}

export function findRoute(table: readonly Route[], request: RequestFacts): Route | undefined {
  return table.find((route) => route.matches(request));
}

export function loadDynamicConfig(file: string): DynamicConfig {
  return parse(readFileSync(file, 'utf8')) as DynamicConfig;
}
