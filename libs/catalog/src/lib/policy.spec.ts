import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '@gateway/config';
import { grantableScopes, mayBeGranted, requiredScope } from './policy';
import { resolveTopology } from './topology';

function policyFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const policyOf = (name: string, env: Record<string, string> = {}) => {
  const service = resolveTopology(env).services.find((candidate) => candidate.name === name);
  if (!service) throw new Error(name);
  return service.policy;
};

describe('per-tool policy', () => {
  it('defaults: filesystem reads first, writes by step-up, unknown tools need write', () => {
    const policy = policyOf('filesystem');
    expect(policy.initialScopes).toEqual(['mcp', 'filesystem:read']);
    expect([...policy.scopes.keys()]).toEqual(['filesystem:read', 'filesystem:write']);
    expect(requiredScope(policy, { method: 'tools/call', name: 'read_text_file' })).toBe('filesystem:read');
    expect(requiredScope(policy, { method: 'tools/call', name: 'write_file' })).toBe('filesystem:write');
    expect(requiredScope(policy, { method: 'tools/call', name: 'future_tool' })).toBe('filesystem:write');
    expect(requiredScope(policy, { method: 'resources/read', name: 'file:///x' })).toBe('filesystem:read');
    expect(requiredScope(policy, { method: 'tools/list' })).toBeUndefined();
    expect(grantableScopes(policy, { sub: 'dev:anyone' })).toEqual(['filesystem:read', 'filesystem:write']);
  });

  it('a service without a policy needs the base scope only', () => {
    const policy = policyOf('sequential-thinking');
    expect(policy.initialScopes).toEqual(['mcp']);
    expect(requiredScope(policy, { method: 'tools/call', name: 'sequentialthinking' })).toBeUndefined();
  });

  it("tmux's shell is granted to nobody until a policy file names people", () => {
    const policy = policyOf('tmux');
    expect(policy.initialScopes).toEqual(['mcp']);
    expect(requiredScope(policy, { method: 'tools/call', name: 'send_keys' })).toBe('tmux:shell');
    expect(mayBeGranted(policy, 'tmux:shell', { sub: 'dev:alice' })).toBe(false);
    const named = policyOf('tmux', {
      MCP_POLICY_FILE: policyFile({ services: { tmux: { grants: { shell: ['dev:alice'] } } } }),
    });
    expect(mayBeGranted(named, 'tmux:shell', { sub: 'dev:alice' })).toBe(true);
    expect(mayBeGranted(named, 'tmux:shell', { sub: 'dev:bob' })).toBe(false);
  });

  it('a policy file changes tools and says who may be granted what, failing closed', () => {
    const path = policyFile({
      services: {
        memory: {
          tools: { read_graph: 'write' },
          grants: { write: ['dev:alice', 'github-team:acme/owners', 'domain:example.com'], read: [] },
        },
      },
    });
    const policy = policyOf('memory', { MCP_POLICY_FILE: path });
    expect(requiredScope(policy, { method: 'tools/call', name: 'read_graph' })).toBe('memory:write');
    expect(mayBeGranted(policy, 'memory:write', { sub: 'dev:alice' })).toBe(true);
    expect(mayBeGranted(policy, 'memory:write', { sub: 'dev:bob' })).toBe(false);
    expect(mayBeGranted(policy, 'memory:write', { sub: 'github:7', teams: ['acme/owners'] })).toBe(true);
    expect(mayBeGranted(policy, 'memory:write', { sub: 'oidc:x', email: 'Eve@Example.com' })).toBe(true);
    expect(mayBeGranted(policy, 'memory:read', { sub: 'dev:alice' })).toBe(false);
    expect(mayBeGranted(policy, 'mcp', { sub: 'dev:bob' })).toBe(true);
  });

  it('refuses a bad policy at boot with every problem named', () => {
    const path = policyFile({
      services: {
        memory: { tools: { read_graph: 'admin' }, grants: { write: ['octocat'], delete: ['*'] }, colour: 'red' },
        nosuch: {},
      },
    });
    let error: unknown;
    try {
      resolveTopology({ MCP_POLICY_FILE: path });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    expect(message).toContain('services.nosuch: no such service');
    expect(message).toContain('services.memory.colour: unknown field');
    expect(message).toContain('services.memory.tools.read_graph: "admin" is not a scope of memory (read, write)');
    expect(message).toContain('services.memory.grants.delete: not a scope of memory');
    expect(message).toContain('"octocat" is not a principal');
  });

  it('refuses a policy file that is not JSON', () => {
    expect(() => resolveTopology({ MCP_POLICY_FILE: policyFile('{ nope') })).toThrow(/cannot read it as JSON/);
    expect(() => resolveTopology({ MCP_POLICY_FILE: '/nonexistent/policy.json' })).toThrow(/MCP_POLICY_FILE/);
  });
});
