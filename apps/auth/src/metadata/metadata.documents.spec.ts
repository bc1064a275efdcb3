import { resolveTopology, SERVICES } from '@gateway/catalog';
import { authorizationServerMetadata, protectedResourceMetadata, serviceForMetadata } from './metadata.documents';
import { serviceIssuer, serviceIssuerMetadataUrl } from './service-issuer';

describe('serviceForMetadata', () => {
  it('path mode: the suffix names the service; the root names the first enabled one', () => {
    const topology = resolveTopology({ MCP_ECHO_STATELESS_ENABLED: 'false' });
    expect(serviceForMetadata(topology, 'anything', '/fetchs/mcp')?.name).toBe('fetchs');
    expect(serviceForMetadata(topology, 'anything', '/fetchs/mcp/')?.name).toBe('fetchs');
    expect(serviceForMetadata(topology, 'anything', '')?.name).toBe(topology.enabled[0]?.name);
    expect(serviceForMetadata(topology, 'anything', '')?.name).not.toBe('echo-stateless');
    expect(serviceForMetadata(topology, 'anything', '/echo-stateless/mcp')).toBeUndefined();
    expect(serviceForMetadata(topology, 'anything', '/mcp')).toBeUndefined();
  });

  it('subdomain mode: the Host names the service, with or without its port', () => {
    const topology = resolveTopology({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.com' });
    expect(serviceForMetadata(topology, 'Memory.Example.com', '/mcp')?.name).toBe('memory');
    expect(serviceForMetadata(topology, 'memory.example.com:443', '')?.name).toBe('memory');
    expect(serviceForMetadata(topology, 'auth.example.com', '/mcp')).toBeUndefined();
    expect(serviceForMetadata(topology, 'memory.example.com', '/memory/mcp')).toBeUndefined();
  });
});

describe('per-service authorization servers (RFC 8414 §3.1, RFC 9728 §2)', () => {
  it.each([
    [{}, 'http://localhost:8080/as/memory', 'http://localhost:8080/.well-known/oauth-authorization-server/as/memory'],
    [
      { ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.com' },
      'https://auth.example.com/as/memory',
      'https://auth.example.com/.well-known/oauth-authorization-server/as/memory',
    ],
  ])('%j: a path-form issuer, advertised by the service and described at the path-inserted URL', (env, issuer, url) => {
    const topology = resolveTopology(env);
    const memory = topology.enabled.find((service) => service.name === 'memory');
    if (!memory) throw new Error('memory is not enabled');
    expect(serviceIssuer(topology, memory)).toBe(issuer);
    expect(serviceIssuerMetadataUrl(topology, memory)).toBe(url);
    expect(protectedResourceMetadata(memory, topology)['authorization_servers']).toEqual([issuer]);
    const metadata = authorizationServerMetadata(issuer, topology.issuer);
    expect(metadata).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${topology.issuer}/register`,
      jwks_uri: `${topology.issuer}/jwks`,
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('keeps /as/ apart from every service path (path routing puts service NAME at /NAME)', () => {
    expect(SERVICES.map((service) => service.name)).not.toContain('as');
  });
});
