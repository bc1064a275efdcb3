import { resolveTopology } from '@gateway/catalog';
import { serviceForMetadata } from './metadata.documents';

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
