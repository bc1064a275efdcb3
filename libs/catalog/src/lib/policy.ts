import { readFileSync } from 'node:fs';

/**
 * Per-tool authorization (docs/authorization.md): which scopes a service has, which scope each tool (and its
 * resources and prompts) needs, and who may be granted each scope. One typed model, shared by auth (consent,
 * metadata, /verify) and the MCP services (in-path checks, filtered lists): both import it from the catalog.
 *
 * On the wire a service scope is `<service>:<scope>` (e.g. `filesystem:write`), so a consent remembered for one
 * service never grants another's. Every grant also carries the base scope `mcp`, which is enough for the
 * handshake, the lists and every tool that needs no further scope.
 */

/** The base scope of every grant (MCP authorization, scope selection; docs/auth.md). */
export const BASE_SCOPE = 'mcp';

/** One scope of a service, as the catalog (data) declares it. */
export interface ScopeDefinition {
  /** Plain words for the consent page: what the application may then do. */
  readonly description: string;
  /** Asked for first: named in the 401 challenge (least privilege; more is asked by step-up). */
  readonly initial?: boolean;
  /**
   * Who may be granted it while the operator's policy file has no `grants` entry for it (principals as in
   * `grants`). Absent: everyone (`*`). `[]`: nobody until an operator names people (a remote shell).
   */
  readonly grantedTo?: readonly string[];
}

/** A service's access policy as the catalog declares it (data, not code; an operator may override it). */
export interface ServicePolicyDefinition {
  /** Local scope name (`read`, `write`) → its definition. */
  readonly scopes: Readonly<Record<string, ScopeDefinition>>;
  /** Tool name → local scope it needs. */
  readonly tools?: Readonly<Record<string, string>>;
  /** The scope of a tool not listed in `tools` (fail closed for tools a server adds later); absent: base only. */
  readonly otherTools?: string;
  /** The scope `resources/read` (and the resource lists) need; absent: base only. */
  readonly resources?: string;
  /** The scope `prompts/get` (and the prompt list) need; absent: base only. */
  readonly prompts?: string;
}

/**
 * Who may be granted a scope. Entries name people by identifiers they cannot choose (docs/security.md S35):
 * `*` (everyone the gateway-wide allow-lists admit), `github:<id>` or `github:<login>:<id>`, `github-org:<org>`,
 * `github-team:<org>/<team>`, `oidc:<sub>`, `dev:<name>`, `email:<address>` (verified), `domain:<example.com>`
 * (a verified email in that domain). An empty list grants nobody (fail closed).
 */
export type Principal =
  | { readonly kind: 'everyone' }
  | { readonly kind: 'subject'; readonly value: string }
  | { readonly kind: 'github-org'; readonly value: string }
  | { readonly kind: 'github-team'; readonly value: string }
  | { readonly kind: 'email'; readonly value: string }
  | { readonly kind: 'domain'; readonly value: string };

/** The person a grant is decided for: what auth knows after login (no token, no secret). */
export interface Grantee {
  readonly sub: string;
  /** Verified email only. */
  readonly email?: string;
  readonly orgs?: readonly string[];
  /** `org/team-slug`, lower-case. */
  readonly teams?: readonly string[];
}

/** A service's policy as this deployment applies it: wire scope names, with the operator's overrides. */
export interface ServicePolicy {
  /** Wire scope (`filesystem:write`) → plain words; the service's own scopes, not the base scope. */
  readonly scopes: ReadonlyMap<string, string>;
  /** What the 401 challenge names: the base scope and the initial service scopes. */
  readonly initialScopes: readonly string[];
  /** Tool → wire scope; tools not listed need `otherTools` (or the base scope alone). */
  readonly tools: ReadonlyMap<string, string>;
  readonly otherTools?: string;
  readonly resources?: string;
  readonly prompts?: string;
  /** Wire scope → who may be granted it. */
  readonly grants: ReadonlyMap<string, readonly Principal[]>;
}

/**
 * The operator's policy file (`MCP_POLICY_FILE`, JSON): per service, any of the catalog's fields to replace
 * (`scopes`, `otherTools`, `resources`, `prompts`), `tools` entries to add or change, and `grants`
 * (local scope → principals). Scopes without a `grants` entry are granted to everyone (`*`).
 */
export interface PolicyFile {
  readonly services?: Readonly<
    Record<string, Partial<ServicePolicyDefinition> & { readonly grants?: Readonly<Record<string, readonly string[]>> }>
  >;
}

const SCOPE_NAME = /^[a-z][a-z0-9_.-]{0,31}$/;
const SERVICE_KEYS = new Set(['scopes', 'tools', 'otherTools', 'resources', 'prompts', 'grants']);

/** The wire name of a service's local scope. */
export function wireScope(service: string, scope: string): string {
  return `${service}:${scope}`;
}

/**
 * Reads `MCP_POLICY_FILE` (when set) and applies it to the catalog's policies. Every problem is pushed to
 * `problems` (reported at boot with the other configuration errors); nothing is half-applied.
 */
export function resolvePolicies(
  services: readonly { readonly name: string; readonly policy?: ServicePolicyDefinition }[],
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): Map<string, ServicePolicy> {
  const file = readPolicyFile(env['MCP_POLICY_FILE']?.trim(), problems);
  const known = new Set(services.map((service) => service.name));
  for (const name of Object.keys(file.services ?? {}))
    if (!known.has(name))
      problems.push(`MCP_POLICY_FILE: services.${name}: no such service (known: ${[...known].join(', ')})`);
  const policies = new Map<string, ServicePolicy>();
  for (const service of services) {
    const override = file.services?.[service.name];
    policies.set(service.name, resolveService(service.name, service.policy, override, problems));
  }
  return policies;
}

function readPolicyFile(path: string | undefined, problems: string[]): PolicyFile {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`MCP_POLICY_FILE=${JSON.stringify(path)}: cannot read it as JSON (${(error as Error).message})`);
    return {};
  }
  const services = (parsed as PolicyFile | null)?.services;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !isRecord(services ?? {})) {
    problems.push(`MCP_POLICY_FILE: must be a JSON object {"services": {"<name>": {...}}}`);
    return {};
  }
  return parsed as PolicyFile;
}

function resolveService(
  name: string,
  base: ServicePolicyDefinition | undefined,
  override: unknown,
  problems: string[],
): ServicePolicy {
  const where = `MCP_POLICY_FILE: services.${name}`;
  const given = (isRecord(override) ? override : {}) as NonNullable<PolicyFile['services']>[string];
  if (override !== undefined && !isRecord(override)) problems.push(`${where}: must be an object`);
  for (const key of Object.keys(given))
    if (!SERVICE_KEYS.has(key)) problems.push(`${where}.${key}: unknown field (${[...SERVICE_KEYS].join(', ')})`);

  const scopes = given.scopes ?? base?.scopes ?? {};
  if (!isRecord(scopes)) problems.push(`${where}.scopes: must be an object of {"description", "initial"}`);
  const local = new Set<string>();
  const described = new Map<string, string>();
  const initialScopes = [BASE_SCOPE];
  for (const [scope, definition] of Object.entries(isRecord(scopes) ? scopes : {})) {
    if (!SCOPE_NAME.test(scope)) problems.push(`${where}.scopes.${scope}: a scope name is [a-z][a-z0-9_.-]{0,31}`);
    if (!isRecord(definition) || typeof definition['description'] !== 'string' || !definition['description'])
      problems.push(`${where}.scopes.${scope}: needs a "description" in plain words (shown on the consent page)`);
    local.add(scope);
    described.set(wireScope(name, scope), String((definition as ScopeDefinition | undefined)?.description ?? scope));
    if ((definition as ScopeDefinition | undefined)?.initial === true) initialScopes.push(wireScope(name, scope));
  }
  const scopeOf = (value: unknown, field: string): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && local.has(value)) return wireScope(name, value);
    problems.push(
      `${where}.${field}: ${JSON.stringify(value)} is not a scope of ${name} (${[...local].join(', ') || 'none'})`,
    );
    return undefined;
  };

  const tools = new Map<string, string>();
  const toolEntries = { ...(base?.tools ?? {}), ...(isRecord(given.tools) ? given.tools : {}) };
  if (given.tools !== undefined && !isRecord(given.tools)) problems.push(`${where}.tools: must be an object`);
  for (const [tool, scope] of Object.entries(toolEntries)) {
    const wire = scopeOf(scope, `tools.${tool}`);
    if (wire) tools.set(tool, wire);
  }

  const grants = new Map<string, readonly Principal[]>();
  const grantEntries = given.grants ?? {};
  if (!isRecord(grantEntries)) problems.push(`${where}.grants: must be an object of scope → list of principals`);
  for (const scope of Object.keys(isRecord(grantEntries) ? grantEntries : {}))
    if (!local.has(scope)) problems.push(`${where}.grants.${scope}: not a scope of ${name}`);
  for (const scope of local) {
    const entries = isRecord(grantEntries) ? grantEntries[scope] : undefined;
    if (entries !== undefined && (!Array.isArray(entries) || !entries.every((entry) => typeof entry === 'string'))) {
      problems.push(`${where}.grants.${scope}: must be a list of principals`);
      continue;
    }
    const declared = (isRecord(scopes) ? scopes[scope] : undefined) as ScopeDefinition | undefined;
    grants.set(
      wireScope(name, scope),
      (entries ?? declared?.grantedTo ?? ['*'])
        .map((entry) => parsePrincipal(entry, `${where}.grants.${scope}`, problems))
        .filter(isPrincipal),
    );
  }

  const otherTools = scopeOf(given.otherTools ?? base?.otherTools, 'otherTools');
  const resources = scopeOf(given.resources ?? base?.resources, 'resources');
  const prompts = scopeOf(given.prompts ?? base?.prompts, 'prompts');
  return {
    scopes: described,
    initialScopes,
    tools,
    grants,
    ...(otherTools ? { otherTools } : {}),
    ...(resources ? { resources } : {}),
    ...(prompts ? { prompts } : {}),
  };
}

const GITHUB_ID = /^(?:[A-Za-z0-9-]{1,39}:)?(\d{1,20})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DOMAIN = /^@?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)$/i;

/** One grant entry; a choosable identifier (a GitHub login alone) is refused with the way to fix it. */
export function parsePrincipal(entry: string, where: string, problems: string[]): Principal | undefined {
  const trimmed = entry.trim();
  if (trimmed === '*') return { kind: 'everyone' };
  const colon = trimmed.indexOf(':');
  const prefix = colon > 0 ? trimmed.slice(0, colon).toLowerCase() : '';
  const rest = trimmed.slice(colon + 1).trim();
  const githubId = GITHUB_ID.exec(rest)?.[1];
  if (prefix === 'github' && githubId) return { kind: 'subject', value: `github:${githubId}` };
  if (prefix === 'oidc' && rest) return { kind: 'subject', value: `oidc:${rest}` };
  if (prefix === 'dev' && rest) return { kind: 'subject', value: `dev:${rest.toLowerCase()}` };
  if (prefix === 'github-org' && /^[a-z0-9-]{1,39}$/i.test(rest))
    return { kind: 'github-org', value: rest.toLowerCase() };
  if (prefix === 'github-team' && /^[a-z0-9-]{1,39}\/[a-z0-9_.-]{1,100}$/i.test(rest))
    return { kind: 'github-team', value: rest.toLowerCase() };
  if (prefix === 'email' && EMAIL.test(rest)) return { kind: 'email', value: rest.toLowerCase() };
  if (!prefix && EMAIL.test(trimmed)) return { kind: 'email', value: trimmed.toLowerCase() };
  const domain = prefix === 'domain' ? DOMAIN.exec(rest)?.[1] : undefined;
  if (domain) return { kind: 'domain', value: domain.toLowerCase() };
  problems.push(
    `${where}: ${JSON.stringify(entry)} is not a principal. Write *, github:<numeric id> (or github:<login>:<id>), ` +
      `github-org:<org>, github-team:<org>/<team>, oidc:<sub>, dev:<name>, email:<address> or domain:<example.com>`,
  );
  return undefined;
}

/** Whether `grantee` may be granted `scope` (a wire scope of `policy`, or the base scope: always). */
export function mayBeGranted(policy: ServicePolicy, scope: string, grantee: Grantee): boolean {
  if (scope === BASE_SCOPE) return true;
  const principals = policy.grants.get(scope);
  if (!principals) return false;
  const email = grantee.email?.toLowerCase();
  return principals.some((principal) => {
    switch (principal.kind) {
      case 'everyone':
        return true;
      case 'subject':
        return principal.value === grantee.sub;
      case 'github-org':
        return grantee.sub.startsWith('github:') && (grantee.orgs ?? []).includes(principal.value);
      case 'github-team':
        return grantee.sub.startsWith('github:') && (grantee.teams ?? []).includes(principal.value);
      case 'email':
        return email === principal.value;
      case 'domain':
        return email !== undefined && email.slice(email.lastIndexOf('@') + 1) === principal.value;
    }
  });
}

/** The service scopes `grantee` may be granted. */
export function grantableScopes(policy: ServicePolicy, grantee: Grantee): string[] {
  return [...policy.scopes.keys()].filter((scope) => mayBeGranted(policy, scope, grantee));
}

/** Whether any grant names a GitHub organisation or team (login must then read memberships). */
export function policiesNeed(policies: Iterable<ServicePolicy>, kind: 'github-org' | 'github-team'): boolean {
  for (const policy of policies)
    for (const principals of policy.grants.values())
      if (principals.some((principal) => principal.kind === kind)) return true;
  return false;
}

/** A JSON-RPC request as far as the policy reads it: the method and the tool, prompt or resource it names. */
export interface PolicyRequest {
  readonly method: string;
  /** `params.name` of tools/call and prompts/get, `params.uri` of resources/read. */
  readonly name?: string | undefined;
}

/** The wire scope a request needs beyond the base scope, or undefined when the base scope is enough. */
export function requiredScope(policy: ServicePolicy, request: PolicyRequest): string | undefined {
  switch (request.method) {
    case 'tools/call':
      return (request.name !== undefined ? policy.tools.get(request.name) : undefined) ?? policy.otherTools;
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return policy.resources;
    case 'prompts/get':
      return policy.prompts;
    default:
      return undefined;
  }
}

/**
 * The `scope` of a 403 insufficient_scope challenge (MCP 2025-11-25 authorization, "Scope Challenge Handling";
 * RFC 6750 §3.1): every scope needed, i.e. what the token has plus what is missing, so a client that
 * re-authorizes with it keeps what it had. `offline_access` is not a resource scope and is left out.
 */
export function stepUpScope(granted: Iterable<string>, missing: readonly string[]): string {
  return [...new Set([BASE_SCOPE, ...granted, ...missing])].filter((scope) => scope !== 'offline_access').join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrincipal(value: Principal | undefined): value is Principal {
  return value !== undefined;
}
