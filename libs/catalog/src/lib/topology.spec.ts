import { BaseEnv, ConfigValidationError, validateEnv } from '@gateway/config';
import { SERVICES } from './services';
import {
  EnvTopology,
  type GatewayTopology,
  publicOrigins,
  resolveTopology,
  serviceForRequest,
  serviceForResource,
} from './topology';

describe('resolveTopology', () => {
  it('path mode: one origin, /NAME/mcp, path-inserted metadata URL', () => {
    const topology = resolveTopology({});
    expect(topology.mode).toBe('path');
    expect(topology.issuer).toBe('http://localhost:8080');
    const echo = topology.services.find((service) => service.name === 'echo-stateless');
    expect(echo).toMatchObject({
      enabled: true,
      origin: 'http://localhost:8080',
      pathPrefix: '/echo-stateless',
      mcpUrl: 'http://localhost:8080/echo-stateless/mcp',
      resourceMetadataUrl: 'http://localhost:8080/.well-known/oauth-protected-resource/echo-stateless/mcp',
      upstreamUrl: 'http://127.0.0.1:3101',
    });
  });

  it('subdomain mode: auth.BASE_DOMAIN issuer and NAME.BASE_DOMAIN/mcp', () => {
    const topology = resolveTopology({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'Example.com' });
    expect(topology.issuer).toBe('https://auth.example.com');
    const memory = topology.services.find((service) => service.name === 'memory');
    expect(memory?.mcpUrl).toBe('https://memory.example.com/mcp');
    expect(memory?.resourceMetadataUrl).toBe('https://memory.example.com/.well-known/oauth-protected-resource/mcp');
  });

  it('MCP_<NAME>_ENABLED switches services off and on', () => {
    const topology = resolveTopology({ MCP_ECHO_STATEFUL_ENABLED: 'false', MCP_SEQUENTIAL_THINKING_ENABLED: '0' });
    const names = topology.enabled.map((service) => service.name);
    expect(names).not.toContain('echo-stateful');
    expect(names).not.toContain('sequential-thinking');
    expect(names).toContain('echo-stateless');
  });

  it('reads per-service allow-lists and upstream overrides', () => {
    const topology = resolveTopology({
      MCP_FETCHS_ALLOWED_USERS: ' alice, Bob ',
      MCP_FETCHS_UPSTREAM: 'http://fetchs:3103',
    });
    const fetchs = topology.services.find((service) => service.name === 'fetchs');
    expect(fetchs?.allowedUsers).toEqual(['alice', 'Bob']);
    expect(fetchs?.upstreamUrl).toBe('http://fetchs:3103');
  });

  it('runs one replica of everything by default', () => {
    const topology = resolveTopology({});
    expect(topology.authUpstreamUrls).toEqual(['http://127.0.0.1:3000']);
    for (const service of topology.services) {
      expect(service.replicas).toBe(1);
      expect(service.upstreamUrls).toEqual([service.upstreamUrl]);
    }
  });

  it('GATEWAY_REPLICAS spreads auth and every service over ports 10 apart', () => {
    const topology = resolveTopology({ GATEWAY_REPLICAS: '3' });
    expect(topology.authUpstreamUrls).toEqual([
      'http://127.0.0.1:3000',
      'http://127.0.0.1:3010',
      'http://127.0.0.1:3020',
    ]);
    const byName = new Map(topology.services.map((service) => [service.name, service]));
    expect(byName.get('echo-stateful')?.upstreamUrls).toEqual([
      'http://127.0.0.1:3102',
      'http://127.0.0.1:3112',
      'http://127.0.0.1:3122',
    ]);
    // stdio-proxy too: its replicas forward a request to the one holding the child (docs/stdio-proxy.md).
    expect(byName.get('memory')?.upstreamUrls).toEqual([
      'http://127.0.0.1:3202',
      'http://127.0.0.1:3212',
      'http://127.0.0.1:3222',
    ]);
    const ports = topology.services.flatMap((service) => service.upstreamUrls).concat(topology.authUpstreamUrls);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('takes listed upstreams as the replicas, and a per-service count over the gateway-wide one', () => {
    const topology = resolveTopology({
      GATEWAY_REPLICAS: '2',
      MCP_FETCHS_UPSTREAM: 'http://a:1, http://b:2 ,http://c:3',
      MCP_ECHO_STATELESS_REPLICAS: '1',
      AUTH_UPSTREAM: 'http://auth:3000',
    });
    const byName = new Map(topology.services.map((service) => [service.name, service]));
    expect(byName.get('fetchs')).toMatchObject({ replicas: 3, upstreamUrl: 'http://a:1' });
    expect(byName.get('echo-stateless')?.upstreamUrls).toEqual(['http://127.0.0.1:3101']);
    expect(topology.authUpstreamUrls).toEqual(['http://auth:3000', 'http://auth:3010']);
  });

  it('refuses bad counts', () => {
    const attempt = (env: Record<string, string>) => {
      try {
        resolveTopology(env);
        return [];
      } catch (error) {
        return (error as ConfigValidationError).problems;
      }
    };
    expect(attempt({ MCP_MEMORY_REPLICAS: '2' })).toEqual([]);
    expect(attempt({ GATEWAY_REPLICAS: '0', MCP_FETCHS_REPLICAS: 'two' })).toEqual([
      expect.stringContaining('GATEWAY_REPLICAS="0"'),
      expect.stringContaining('MCP_FETCHS_REPLICAS="two"'),
    ]);
    expect(attempt({ MCP_FETCHS_REPLICAS: '3', MCP_FETCHS_UPSTREAM: 'http://a:1,http://b:2' })).toEqual([
      expect.stringContaining('lists 2 origins but 3 replicas'),
    ]);
  });

  it('names every bad key at once', () => {
    expect(() =>
      resolveTopology({ ROUTING_MODE: 'subdomain', MCP_MEMORY_ENABLED: 'perhaps', MCP_FETCHS_UPSTREAM: 'ftp://x' }),
    ).toThrow(ConfigValidationError);
    try {
      resolveTopology({ ROUTING_MODE: 'subdomain', MCP_MEMORY_ENABLED: 'perhaps', MCP_FETCHS_UPSTREAM: 'ftp://x' });
    } catch (error) {
      const { problems } = error as ConfigValidationError;
      expect(problems).toEqual([
        expect.stringContaining('BASE_DOMAIN is missing'),
        expect.stringContaining('MCP_FETCHS_UPSTREAM="ftp://x"'),
        expect.stringContaining('MCP_MEMORY_ENABLED="perhaps"'),
      ]);
    }
  });

  it('refuses a PUBLIC_URL with a path', () => {
    expect(() => resolveTopology({ PUBLIC_URL: 'http://localhost:8080/gateway' })).toThrow(/PUBLIC_URL/);
  });

  it('has unique names and ports', () => {
    expect(new Set(SERVICES.map((service) => service.name)).size).toBe(SERVICES.length);
    expect(new Set(SERVICES.map((service) => service.port)).size).toBe(SERVICES.length);
    for (const service of SERVICES) expect(service.name).toMatch(/^[a-z][a-z0-9-]*$/);
  });
});

describe('serviceForResource (RFC 8707)', () => {
  const topology = resolveTopology({ MCP_MEMORY_ENABLED: 'false' });

  it.each([
    'http://localhost:8080/echo-stateless/mcp',
    'HTTP://LOCALHOST:8080/echo-stateless/mcp',
    'http://localhost:8080/echo-stateless/mcp/',
  ])('accepts %s', (resource) => {
    expect(serviceForResource(topology, resource)?.name).toBe('echo-stateless');
  });

  it.each([
    'http://localhost:8080/echo-stateless',
    'http://localhost:8080/echo-stateless/mcp?x=1',
    'http://localhost:8081/echo-stateless/mcp',
    'http://localhost:8080/memory/mcp',
    'not a url',
  ])('refuses %s', (resource) => {
    expect(serviceForResource(topology, resource)).toBeUndefined();
  });
});

describe('publicOrigins', () => {
  it("lists the issuer's origin and every service's, once each", () => {
    expect(publicOrigins(resolveTopology({}))).toEqual(['http://localhost:8080']);
    expect(
      publicOrigins(resolveTopology({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.com', PUBLIC_SCHEME: 'https' })),
    ).toEqual(expect.arrayContaining(['https://auth.example.com', 'https://echo-stateless.example.com']));
  });
});

describe('serviceForRequest', () => {
  it('path mode matches by prefix on the public host', () => {
    const topology = resolveTopology({});
    expect(serviceForRequest(topology, 'localhost:8080', '/fetchs/mcp')?.name).toBe('fetchs');
    expect(serviceForRequest(topology, 'localhost:8080', '/fetchsx/mcp')).toBeUndefined();
    expect(serviceForRequest(topology, 'evil.example:8080', '/fetchs/mcp')).toBeUndefined();
  });

  it('subdomain mode matches by host', () => {
    const topology = resolveTopology({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.com' });
    expect(serviceForRequest(topology, 'fetchs.example.com', '/mcp')?.name).toBe('fetchs');
    expect(serviceForRequest(topology, 'auth.example.com', '/mcp')).toBeUndefined();
  });
});

describe('EnvTopology', () => {
  class SampleEnv extends BaseEnv {
    @EnvTopology()
    public readonly topology!: GatewayTopology;
  }

  it('resolves the catalog with the validated environment', () => {
    const env = validateEnv(SampleEnv, { PUBLIC_URL: 'https://gw.example.com', MCP_MEMORY_ENABLED: 'false' });
    expect(env.topology.issuer).toBe('https://gw.example.com');
    expect(env.topology.enabled.map((service) => service.name)).not.toContain('memory');
  });

  it('reports bad catalog keys together with the other keys', () => {
    expect(() => validateEnv(SampleEnv, { PORT: 'abc', MCP_MEMORY_ENABLED: 'perhaps' }, 'sample')).toThrow(
      /PORT="abc"[\s\S]*MCP_MEMORY_ENABLED="perhaps"/,
    );
  });
});
