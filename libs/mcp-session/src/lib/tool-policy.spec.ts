import { resolveTopology } from '@gateway/catalog';
import type { ToolCallRecord } from '@gateway/platform';
import { ToolPolicy } from './tool-policy';

const filesystem = resolveTopology({}).services.find((service) => service.name === 'filesystem');
const records: ToolCallRecord[] = [];
const policy = new ToolPolicy(filesystem as NonNullable<typeof filesystem>, {
  toolCall: (record) => records.push(record),
});
const call = (id: number, name: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
});
const reader = {
  userId: 'dev:alice',
  scope: 'mcp filesystem:read',
  grantableScope: 'mcp filesystem:read filesystem:write',
};
const readOnly = { userId: 'dev:bob', scope: 'mcp filesystem:read', grantableScope: 'mcp filesystem:read' };

describe('ToolPolicy (in-path, 2025 era)', () => {
  it('passes calls the token covers, and everything without the edge', () => {
    expect(policy.decide(call(1, 'read_text_file'), reader).kind).toBe('pass');
    expect(policy.decide(call(1, 'write_file'), undefined).kind).toBe('pass');
  });

  it('asks for step-up with every scope needed, for a batch as a whole', () => {
    const verdict = policy.decide([call(1, 'read_text_file'), call(2, 'write_file')], reader);
    expect(verdict).toMatchObject({
      kind: 'step-up',
      missing: ['filesystem:write'],
      challenge:
        'Bearer error="insufficient_scope", error_description="this request needs the scope filesystem:write", ' +
        `scope="mcp filesystem:read filesystem:write", resource_metadata="${filesystem?.resourceMetadataUrl}"`,
    });
  });

  it('answers a call the user may never be granted as an unknown tool, and audits it', () => {
    const verdict = policy.decide([call(1, 'read_text_file'), call(2, 'write_file')], readOnly);
    expect(verdict.kind).toBe('hidden');
    if (verdict.kind !== 'hidden') return;
    expect(verdict.answer).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'Not run: this batch calls an unknown tool' } },
      { jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'Unknown tool: write_file' } },
    ]);
    policy.record(verdict, readOnly, 'legacy', performance.now());
    expect(records.map(({ tool, decision, reason }) => [tool, decision, reason])).toEqual([
      ['read_text_file', 'allowed', 'granted'],
      ['write_file', 'refused', 'not_granted'],
    ]);
  });

  it('lists only what the caller may use', () => {
    const result = { tools: [{ name: 'read_text_file' }, { name: 'write_file' }, { name: 'brand_new' }] };
    expect(policy.filterList('tools/list', result, readOnly)).toEqual({ tools: [{ name: 'read_text_file' }] });
    expect(policy.filterList('tools/list', result, reader)).toEqual(result);
  });
});
