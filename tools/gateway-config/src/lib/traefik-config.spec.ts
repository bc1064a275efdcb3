import { resolveTopology } from '@gateway/catalog';
import { composeFile, DOMAIN_PLACEHOLDER } from './compose';
import { LOOPBACK_ORIGIN_REGEX, MIDDLEWARE, PRIORITY, traefikDynamicConfig } from './traefik-config';

const local = (env: Record<string, string> = {}) =>
  traefikDynamicConfig(resolveTopology(env), { authUrl: 'http://127.0.0.1:3000' }).http;

describe('traefikDynamicConfig, path mode', () => {
  const { routers, middlewares, services } = local({ MCP_MEMORY_ENABLED: 'false' });

  it('puts every enabled service behind cors → strip identity → ForwardAuth → strip prefix', () => {
    expect(routers['mcp-echo-stateless']).toEqual({
      rule: 'Host(`localhost`) && (Path(`/echo-stateless`) || PathPrefix(`/echo-stateless/`))',
      priority: PRIORITY.mcp,
      entryPoints: ['web'],
      middlewares: ['mcp-cors', 'strip-identity-headers', 'mcp-auth', 'strip-echo-stateless'],
      service: 'echo-stateless',
    });
    expect(services['echo-stateless']).toEqual({
      loadBalancer: {
        servers: [{ url: 'http://127.0.0.1:3101' }],
        healthCheck: { path: '/readyz', interval: '5s', timeout: '2s' },
      },
    });
    expect(middlewares['strip-echo-stateless']).toEqual({ stripPrefix: { prefixes: ['/echo-stateless'] } });
  });

  it('lists every replica as a server of the service and of auth, health-checked on /readyz', () => {
    const topology = resolveTopology({ GATEWAY_REPLICAS: '2' });
    const config = traefikDynamicConfig(topology, {
      authUrl: topology.authUpstreamUrls[0] as string,
      authUrls: topology.authUpstreamUrls,
    }).http;
    expect(config.services['echo-stateful']?.loadBalancer.servers).toEqual([
      { url: 'http://127.0.0.1:3102' },
      { url: 'http://127.0.0.1:3112' },
    ]);
    expect(config.services['auth']?.loadBalancer.servers).toEqual([
      { url: 'http://127.0.0.1:3000' },
      { url: 'http://127.0.0.1:3010' },
    ]);
    // stdio servers too: their replicas forward to each other (docs/stdio-proxy.md "Replicas").
    expect(config.services['memory']?.loadBalancer.servers).toEqual([
      { url: 'http://127.0.0.1:3202' },
      { url: 'http://127.0.0.1:3212' },
    ]);
    expect(config.middlewares[MIDDLEWARE.forwardAuth]?.forwardAuth?.address).toBe('http://127.0.0.1:3000/verify');
  });

  it('leaves disabled services out entirely', () => {
    expect(routers['mcp-memory']).toBeUndefined();
    expect(services['memory']).toBeUndefined();
    expect(middlewares['strip-memory']).toBeUndefined();
  });

  it('keeps discovery, OAuth and preflight public and above MCP, and never exposes /verify', () => {
    for (const name of ['preflight', 'discovery', 'auth']) {
      expect(routers[name]?.service).toBe('auth');
      expect(routers[name]?.middlewares).toEqual([MIDDLEWARE.authCors]);
    }
    expect(routers['preflight']?.priority).toBeGreaterThan(routers['discovery']?.priority ?? 0);
    expect(routers['discovery']?.priority).toBeGreaterThan(routers['mcp-fetchs']?.priority ?? 0);
    expect(routers['mcp-fetchs']?.priority).toBeGreaterThan(routers['auth']?.priority ?? 0);
    expect(routers['auth']?.rule).toContain('!Path(`/verify`)');
    expect(routers['discovery']?.rule).toContain('PathPrefix(`/.well-known/oauth-protected-resource/`)');
  });

  it("answers an MCP route's preflight with the services' Origin policy, above every other router", () => {
    expect(routers['mcp-fetchs-preflight']).toEqual({
      rule: 'Host(`localhost`) && (Path(`/fetchs`) || PathPrefix(`/fetchs/`)) && Method(`OPTIONS`)',
      priority: PRIORITY.mcpPreflight,
      entryPoints: ['web'],
      middlewares: [MIDDLEWARE.cors],
      service: 'auth',
    });
    expect(PRIORITY.mcpPreflight).toBeGreaterThan(PRIORITY.preflight);
    // Default: the gateway's own origins only (what the services allow with MCP_ALLOWED_ORIGINS empty in production).
    expect(middlewares[MIDDLEWARE.cors]?.headers?.accessControlAllowOriginList).toEqual(['http://localhost:8080']);
    expect(middlewares[MIDDLEWARE.cors]?.headers?.accessControlAllowOriginListRegex).toBeUndefined();
    expect(middlewares[MIDDLEWARE.authCors]?.headers?.accessControlAllowOriginList).toEqual(['*']);
  });

  it('states MCP_ALLOWED_ORIGINS, and loopback origins on any port in development, as the services do', () => {
    const topology = resolveTopology({});
    const cors = (mcpOrigins: { allowed: string[]; loopback: boolean }) =>
      traefikDynamicConfig(topology, { authUrl: 'http://127.0.0.1:3000', mcpOrigins }).http.middlewares[MIDDLEWARE.cors]
        ?.headers;
    expect(cors({ allowed: ['https://app.example'], loopback: true })).toMatchObject({
      accessControlAllowOriginList: ['https://app.example', 'http://localhost:8080'],
      accessControlAllowOriginListRegex: [LOOPBACK_ORIGIN_REGEX],
    });
    expect(cors({ allowed: ['*'], loopback: true })?.accessControlAllowOriginList).toEqual(['*']);
    // The regular expression accepts what libs/mcp-session's isLoopbackOrigin accepts, and nothing else.
    const loopback = new RegExp(LOOPBACK_ORIGIN_REGEX);
    for (const origin of ['http://localhost:6274', 'https://127.0.0.1', 'http://[::1]:8080', 'http://localhost'])
      expect(loopback.test(origin)).toBe(true);
    for (const origin of ['http://localhost.evil.example', 'http://127.0.0.1.nip.io', 'http://localhost:6274/x'])
      expect(loopback.test(origin)).toBe(false);
  });

  it('ForwardAuth sends only the credential (and the 2026-07-28 method/name) and copies exactly the identity headers back', () => {
    expect(middlewares[MIDDLEWARE.forwardAuth]).toEqual({
      forwardAuth: {
        address: 'http://127.0.0.1:3000/verify',
        authRequestHeaders: ['Authorization', 'Mcp-Method', 'Mcp-Name'],
        authResponseHeaders: [
          'X-User-Id',
          'X-User-Name',
          'X-User-Email',
          'X-Client-Id',
          'X-Scope',
          'X-Scope-Grantable',
        ],
        trustForwardHeader: false,
      },
    });
    expect(Object.keys(middlewares[MIDDLEWARE.stripIdentity]?.headers?.customRequestHeaders ?? {})).toEqual(
      middlewares[MIDDLEWARE.forwardAuth]?.forwardAuth?.authResponseHeaders,
    );
  });

  it('CORS lets browsers send the MCP headers and read the session id and the challenge', () => {
    expect(middlewares[MIDDLEWARE.cors]?.headers).toMatchObject({
      accessControlAllowHeaders: expect.arrayContaining([
        'Authorization',
        'Content-Type',
        'Mcp-Session-Id',
        'MCP-Protocol-Version',
        'Last-Event-ID',
        'Mcp-Method',
        'Mcp-Name',
        'traceparent',
      ]),
      accessControlExposeHeaders: expect.arrayContaining([
        'Mcp-Session-Id',
        'WWW-Authenticate',
        'Mcp-Method',
        'Mcp-Name',
        'traceparent',
        'Retry-After',
      ]),
    });
    expect(middlewares[MIDDLEWARE.forwardAuth]?.forwardAuth?.authRequestHeaders).toEqual([
      'Authorization',
      'Mcp-Method',
      'Mcp-Name',
    ]);
  });

  it('has no HTTPS redirect on a plain-http origin, and one on https', () => {
    expect(routers['http-to-https']).toBeUndefined();
    const https = local({ PUBLIC_URL: 'https://mcp.example.com' }).routers;
    expect(https['http-to-https']).toMatchObject({
      entryPoints: ['web'],
      priority: PRIORITY.redirect,
      middlewares: [MIDDLEWARE.redirect],
    });
    expect(https['mcp-fetchs']).toMatchObject({ entryPoints: ['websecure'], tls: { certResolver: 'letsencrypt' } });
  });
});

describe('traefikDynamicConfig, subdomain mode', () => {
  const { routers, middlewares } = local({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.com' });

  it('routes each service host wholesale (bare origin, /mcp, /mcp/) through ForwardAuth without stripping', () => {
    expect(routers['mcp-fetchs']).toMatchObject({
      rule: 'Host(`fetchs.example.com`)',
      middlewares: ['mcp-cors', 'strip-identity-headers', 'mcp-auth'],
    });
    expect(
      Object.keys(middlewares).filter((name) => name.startsWith('strip-') && name !== MIDDLEWARE.stripIdentity),
    ).toEqual([]);
  });

  it('serves discovery and preflights on every host, and the OAuth endpoints on the auth host only', () => {
    expect(routers['fetchs-discovery']).toMatchObject({ service: 'auth', priority: PRIORITY.discovery });
    expect(routers['fetchs-preflight']).toMatchObject({ service: 'auth', priority: PRIORITY.preflight });
    expect(routers['auth']?.rule).toMatch(/^Host\(`auth\.example\.com`\) && !Path/);
    expect(routers['http-to-https']?.rule).toContain('Host(`auth.example.com`) || Host(`echo-stateless.example.com`)');
  });
});

describe('composeFile', () => {
  const compose = composeFile(resolveTopology({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: DOMAIN_PLACEHOLDER })) as {
    services: Record<
      string,
      { labels?: Record<string, string>; environment?: Record<string, string>; restart?: string; networks?: string[] }
    >;
  };

  it('has Traefik, Redis, auth, one container per enabled service and Prometheus (a profile), all restarting', () => {
    expect(Object.keys(compose.services)).toEqual([
      'traefik',
      'docker-socket-proxy',
      'redis',
      'auth',
      'echo-stateless',
      'echo-stateful',
      'fetchs',
      'time',
      'everything',
      'memory',
      'filesystem',
      'sequential-thinking',
      'egress-proxy',
      'prometheus',
    ]);
    expect(compose.services['prometheus']).toMatchObject({ profiles: ['monitoring'] });
    for (const service of Object.values(compose.services)) expect(service.restart).toBe('unless-stopped');
  });

  it('labels carry ${BASE_DOMAIN} for compose to interpolate, never the placeholder', () => {
    const labels = JSON.stringify(Object.values(compose.services).map((service) => service.labels));
    expect(labels).not.toContain(DOMAIN_PLACEHOLDER);
    expect(compose.services['fetchs']?.labels?.['traefik.http.routers.mcp-fetchs.rule']).toBe(
      'Host(`fetchs.${BASE_DOMAIN}`)',
    );
    expect(compose.services['fetchs']?.labels?.['traefik.http.services.fetchs.loadbalancer.server.port']).toBe('3103');
  });

  it('stdio services name their catalog entry; Redis stays off the public network', () => {
    expect(compose.services['memory']?.environment).toMatchObject({ MCP_SERVICE: 'memory' });
    expect(compose.services['redis']?.networks).toEqual(['internal']);
    expect(compose.services['redis']?.labels).toBeUndefined();
  });
});
