import { performance } from 'node:perf_hooks';
import { BASE_SCOPE, type ResolvedService, requiredScope, stepUpScope } from '@gateway/catalog';
import type { CallerIdentity } from '@gateway/contracts';
import type { ToolCallRecord } from '@gateway/platform';

/** The calls the audit stream records and the policy decides: a tool, a prompt or a resource read. */
const CALLS: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};
/** List results filtered to what the caller may use: method → result field and the call it lists. */
const LISTS: Readonly<Record<string, { readonly field: string; readonly call: string; readonly key: 'name' | 'uri' }>> =
  {
    'tools/list': { field: 'tools', call: 'tools/call', key: 'name' },
    'prompts/list': { field: 'prompts', call: 'prompts/get', key: 'name' },
    'resources/list': { field: 'resources', call: 'resources/read', key: 'uri' },
    'resources/templates/list': { field: 'resourceTemplates', call: 'resources/read', key: 'uri' },
  };

type JsonRpcId = string | number;

interface Call {
  readonly id: JsonRpcId | undefined;
  readonly method: string;
  readonly name: string;
  /** The scope it needs beyond the base scope. */
  readonly scope: string | undefined;
}

/** What the policy says about one POST (2025 era: from the body; 2026-07-28: /verify decided already, same rules). */
export type PolicyVerdict =
  | { readonly kind: 'pass'; readonly calls: readonly Call[] }
  /** 403 with this `WWW-Authenticate` (MCP 2025-11-25 authorization "Scope Challenge Handling", RFC 6750 §3.1). */
  | {
      readonly kind: 'step-up';
      readonly challenge: string;
      readonly missing: readonly string[];
      readonly calls: readonly Call[];
    }
  /** Calls the caller may never be granted: answered as unknown (MCP tools "Error Handling": -32602). */
  | {
      readonly kind: 'hidden';
      readonly answer: unknown;
      readonly calls: readonly Call[];
      readonly hidden: ReadonlySet<Call>;
    };

/**
 * Per-tool authorization inside a service (docs/authorization.md), from the scopes `/verify` passed on:
 * `X-Scope` (the token's) and `X-Scope-Grantable` (what the policy lets this user be granted). A call whose
 * scope is in neither is hidden (unknown tool); one whose scope the user may be granted but the token lacks gets
 * the step-up challenge; the lists show what the caller may use. Without identity headers (no edge in front) the
 * service trusts its caller and nothing is decided here.
 */
export class ToolPolicy {
  public constructor(
    private readonly service: ResolvedService,
    private readonly audit: { toolCall(record: ToolCallRecord): void },
  ) {}

  /** Decides one POST body (a message or a batch). */
  public decide(body: unknown, identity: CallerIdentity | undefined): PolicyVerdict {
    const calls = callsOf(body, this.service);
    const scopes = scopesOf(identity, this.service);
    if (!scopes || calls.length === 0) return { kind: 'pass', calls };
    const hidden = new Set(calls.filter((call) => call.scope && !scopes.grantable.has(call.scope)));
    if (hidden.size > 0) return { kind: 'hidden', answer: unknownAnswer(body, hidden), calls, hidden };
    const missing = [
      ...new Set(calls.flatMap((call) => (call.scope && !scopes.granted.has(call.scope) ? [call.scope] : []))),
    ];
    if (missing.length === 0) return { kind: 'pass', calls };
    const challenge = [
      'Bearer error="insufficient_scope"',
      `error_description="this request needs the scope ${missing.join(' ')}"`,
      `scope="${stepUpScope(scopes.granted, missing)}"`,
      `resource_metadata="${this.service.resourceMetadataUrl}"`,
    ].join(', ');
    return { kind: 'step-up', challenge, missing, calls };
  }

  /** One audit line per call of the POST, once its answer was written (`receivedAt`: `performance.now()`). */
  public record(
    verdict: PolicyVerdict,
    identity: CallerIdentity | undefined,
    era: 'legacy' | 'modern',
    receivedAt: number,
  ): void {
    const latencyMs = Math.round((performance.now() - receivedAt) * 10) / 10;
    for (const call of verdict.calls) {
      const refused =
        verdict.kind === 'step-up'
          ? 'insufficient_scope'
          : verdict.kind === 'hidden' && verdict.hidden.has(call)
            ? 'not_granted'
            : undefined;
      this.audit.toolCall({
        user: identity?.userId,
        client: identity?.clientId,
        service: this.service.name,
        tool: call.name,
        method: call.method,
        era,
        decision: refused ? 'refused' : 'allowed',
        reason: refused ?? 'granted',
        ...(call.scope ? { scope: call.scope } : {}),
        latencyMs,
      });
    }
  }

  /**
   * Filters a list result (tools, prompts, resources) for the list request it answers. `method` is the list's
   * method; the result is returned unchanged without identity headers.
   */
  public filterList(method: string, result: unknown, identity: CallerIdentity | undefined): unknown {
    const list = LISTS[method];
    const scopes = scopesOf(identity, this.service);
    if (!list || !scopes || typeof result !== 'object' || result === null) return result;
    const items = (result as Record<string, unknown>)[list.field];
    if (!Array.isArray(items)) return result;
    const visible = items.filter((item: unknown) => {
      const name = (item as Record<string, unknown> | null)?.[list.key];
      const scope = requiredScope(this.service.policy, {
        method: list.call,
        name: typeof name === 'string' ? name : undefined,
      });
      return !scope || scopes.grantable.has(scope);
    });
    return { ...(result as object), [list.field]: visible };
  }

  /**
   * Filters the list results a transport sends (its requests arrive with the caller's identity in
   * `extra.authInfo.extra.identity`, mcp-route.ts). Call it once the transport's `onmessage` is set (after
   * `server.connect`, or after a bridge wired it), so both directions pass through here.
   */
  public filterListsOn(transport: MessageTransport): void {
    const pending = new Map<string, { method: string; identity: CallerIdentity | undefined }>();
    const onmessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const { id, method } = message as { id?: unknown; method?: unknown };
      if (typeof method === 'string' && method in LISTS && (typeof id === 'string' || typeof id === 'number')) {
        const stamped = (extra as { authInfo?: { extra?: { identity?: CallerIdentity } } } | undefined)?.authInfo;
        const identity = stamped?.extra?.identity;
        pending.set(JSON.stringify(id), { method, identity });
      }
      onmessage?.call(transport, message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      const { id, result } = message as { id?: unknown; result?: unknown };
      const list = result !== undefined ? pending.get(JSON.stringify(id)) : undefined;
      if (!list) return send(message, options);
      pending.delete(JSON.stringify(id));
      return send(
        { ...(message as object), result: this.filterList(list.method, result, list.identity) } as typeof message,
        options,
      );
    };
  }
}

/**
 * A list answer with its result filtered, for handlers whose transport is not reachable (the SDK's 2026-07-28
 * handler). The whole answer is read first: a list request's stream ends with its result.
 */
export async function filterListResponse(
  response: Response,
  policy: ToolPolicy,
  method: string,
  identity: CallerIdentity | undefined,
): Promise<Response> {
  const type = response.headers.get('content-type') ?? '';
  if (!(method in LISTS) || !/^(application\/json|text\/event-stream)/.test(type)) return response;
  const rewrite = (message: unknown): unknown =>
    typeof message === 'object' && message !== null && 'result' in message
      ? { ...message, result: policy.filterList(method, (message as { result: unknown }).result, identity) }
      : message;
  const text = await response.text();
  const body = type.startsWith('application/json')
    ? JSON.stringify(rewrite(JSON.parse(text)))
    : text.replace(/^data: ?(.*)$/gm, (line, data: string) => {
        try {
          return `data: ${JSON.stringify(rewrite(JSON.parse(data)))}`;
        } catch {
          return line;
        }
      });
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(body, { status: response.status, headers });
}

/** The part of an MCP SDK transport (v1 or v2) that `filterListsOn` wraps. */
export interface MessageTransport {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDKs' message types differ; only id/method/result are read
  onmessage?: ((message: any, extra?: any) => void) | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(message: any, options?: any): Promise<void>;
}

/** The token's scopes and the grantable ones; `undefined` without the edge's identity headers. */
function scopesOf(
  identity: CallerIdentity | undefined,
  service: ResolvedService,
): { granted: ReadonlySet<string>; grantable: ReadonlySet<string> } | undefined {
  if (identity?.scope === undefined) return undefined;
  const granted = new Set(identity.scope.split(' ').filter(Boolean));
  // An edge that does not pass X-Scope-Grantable (e.g. a hand-written Caddy file): every scope may be asked for,
  // so a missing scope gets the step-up challenge and the consent decides.
  const grantable = new Set(
    identity.grantableScope?.split(' ').filter(Boolean) ?? [BASE_SCOPE, ...service.policy.scopes.keys()],
  );
  return { granted, grantable };
}

function callsOf(body: unknown, service: ResolvedService): Call[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages.flatMap((message: unknown): Call[] => {
    if (typeof message !== 'object' || message === null) return [];
    const { id, method, params } = message as { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    const key = typeof method === 'string' ? CALLS[method] : undefined;
    if (!key) return [];
    const raw = params?.[key];
    const name = typeof raw === 'string' ? raw : '';
    return [
      {
        id: typeof id === 'string' || typeof id === 'number' ? id : undefined,
        method: method as string,
        name,
        scope: requiredScope(service.policy, { method: method as string, name }),
      },
    ];
  });
}

/**
 * The answer to a POST with hidden calls: each gets the error of an unknown tool, prompt or resource (MCP
 * 2025-11-25 server/tools "Error Handling": -32602; resources: -32002). In a batch (2025-03-26 and before) the
 * other requests are not run and say so: a batch is answered as a whole.
 */
function unknownAnswer(body: unknown, hidden: ReadonlySet<Call>): unknown {
  const hiddenIds = new Map([...hidden].map((call) => [JSON.stringify(call.id), call]));
  const answers = (Array.isArray(body) ? body : [body]).flatMap((message: unknown) => {
    const { id, method } = (message ?? {}) as { id?: unknown; method?: unknown };
    if ((typeof id !== 'string' && typeof id !== 'number') || typeof method !== 'string') return [];
    const call = hiddenIds.get(JSON.stringify(id));
    if (!call)
      return [{ jsonrpc: '2.0', id, error: { code: -32600, message: 'Not run: this batch calls an unknown tool' } }];
    const error =
      call.method === 'resources/read'
        ? { code: -32002, message: `Resource not found: ${call.name}` }
        : { code: -32602, message: `Unknown ${call.method === 'tools/call' ? 'tool' : 'prompt'}: ${call.name}` };
    return [{ jsonrpc: '2.0', id, error }];
  });
  return Array.isArray(body) ? answers : answers[0];
}
