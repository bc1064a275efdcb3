import type { ServicePolicyDefinition } from './policy';

/**
 * The one list of MCP services the gateway knows. Everything else (auth's protected-resource
 * metadata and audiences, the Traefik configuration, compose labels, the dev edge, `npm start`)
 * is derived from it; nothing repeats it by hand.
 */
export type ServiceKind = 'native' | 'stdio';

/**
 * What network a service needs (docs/security.md, "Egress"). `none`: no network at all (a stdio child runs in a
 * fresh network namespace; its container shares an internal network with Traefik only). `internet`: public
 * addresses only, through fetchs' address policy (fetchs applies it itself; a stdio child goes through the egress
 * proxy, `HTTP(S)_PROXY`, from a network namespace whose only way out is that proxy).
 */
export type Egress = 'none' | 'internet';

/**
 * Where a service keeps what outlives one request, which decides whether it runs in replicas:
 * `none` (nothing), `store` (the shared KeyValueStore: any replica serves any session), `owner` (in the process
 * that created it, a stdio child: the other replicas forward to that owner, found in Redis; docs/stdio-proxy.md
 * "Replicas"), `process` (in the process, with no forwarding: one replica only, e.g. tmux's per-user servers).
 */
export type SessionState = 'none' | 'store' | 'owner' | 'process';

export interface StdioCommand {
  /** Executable; `node` runs the current Node.js binary. */
  readonly command: string;
  readonly args: readonly string[];
  /**
   * Environment keys passed to the child. Values (and args, cwd) may use `${MCP_DATA_DIR}` and `${MCP_WORKSPACE_DIR}`
   * (the user's own directories) and `${MCP_CHILD_DIR}` (a directory of this one child, removed when it exits).
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory of the child (`${MCP_DATA_DIR}`: the user's own); default the proxy's (STDIO_CWD). */
  readonly cwd?: string;
  /**
   * Safe to share one child among the sessions of one user (the stdio proxy's default then): the server
   * keeps no per-connection state beyond what it stores (server-memory's file). Not for servers that keep
   * a conversation's state in the process (sequential-thinking) or act on the client's capabilities and
   * roots at initialize (everything, filesystem).
   */
  readonly shareable?: boolean;
}

export interface ServiceDefinition {
  /** URL-safe name: the path segment in path mode, the host label in subdomain mode. */
  readonly name: string;
  /** Human-readable name for metadata (`resource_name`) and pages. */
  readonly title: string;
  readonly kind: ServiceKind;
  /** Nx project that serves it. */
  readonly app: 'echo-stateless' | 'echo-stateful' | 'fetchs' | 'time' | 'tmux' | 'stdio-proxy';
  /** Port it listens on inside the gateway's network (unique per service). */
  readonly port: number;
  readonly enabledByDefault: boolean;
  /** The network it needs; see {@link Egress}. */
  readonly egress: Egress;
  /**
   * Left out of the production compose file unless its overlay is named (`COMPOSE_FILE`, docs/deployment.md):
   * test servers that should not face the internet by default.
   */
  readonly productionOptIn?: boolean;
  readonly sessionState: SessionState;
  /** For `stdio` services: the official stdio server the proxy starts. */
  readonly stdio?: StdioCommand;
  /**
   * Per-tool authorization (docs/authorization.md): the service's scopes and what each tool needs. Absent: the
   * base scope `mcp` opens every tool. An operator overrides it with `MCP_POLICY_FILE`.
   */
  readonly policy?: ServicePolicyDefinition;
  /** Debian packages the service needs at run time (its container image installs them; `npm start` expects them). */
  readonly packages?: readonly string[];
}

// Per-tool policies (data; docs/authorization.md). Read tools are asked for first, write tools by step-up, and
// a tool a server adds later needs the write scope until the policy names it (fail closed).
const ECHO_POLICY: ServicePolicyDefinition = {
  scopes: {
    diagnostics: {
      description: 'See the request headers, the token claims and the configuration this service receives',
      initial: true,
    },
  },
  tools: {
    printHeader: 'diagnostics',
    bearerDecode: 'diagnostics',
    authContext: 'diagnostics',
    corsAnalysis: 'diagnostics',
    environmentDump: 'diagnostics',
  },
};

/** A stdio server installed as an npm dependency (`entry`: its script under node_modules): nothing is downloaded at run time. */
const npmServer = (
  entry: string,
  options: { args?: string[]; env?: Record<string, string>; cwd?: string; shareable?: boolean } = {},
): StdioCommand => ({
  command: 'node',
  args: [`node_modules/${entry}`, ...(options.args ?? [])],
  ...(options.env ? { env: options.env } : {}),
  ...(options.cwd ? { cwd: options.cwd } : {}),
  ...(options.shareable ? { shareable: true } : {}),
});

/** An official (modelcontextprotocol) stdio server. */
const stdioServer = (pkg: string, args: string[] = [], env?: Record<string, string>, shareable = false): StdioCommand =>
  npmServer(`@modelcontextprotocol/${pkg}/dist/index.js`, { args, ...(env ? { env } : {}), shareable });

// tmux is a remote shell: every tool needs `tmux:shell`, never asked for first (step-up only) and granted to nobody
// until an operator's policy file names people (docs/mcp-services.md, "tmux").
const TMUX_POLICY: ServicePolicyDefinition = {
  scopes: {
    shell: {
      description: 'Run commands in a terminal on the gateway host (a remote shell)',
      initial: false,
      grantedTo: [],
    },
  },
  otherTools: 'shell',
};

// Ports: 31xx native services, 32xx stdio servers behind the proxy, 3000 auth, 8080 the edge.
export const SERVICES: readonly ServiceDefinition[] = [
  {
    name: 'echo-stateless',
    title: 'Echo (stateless)',
    kind: 'native',
    app: 'echo-stateless',
    port: 3101,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'none',
    policy: ECHO_POLICY,
  },
  {
    name: 'echo-stateful',
    title: 'Echo (stateful)',
    kind: 'native',
    app: 'echo-stateful',
    port: 3102,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'store',
    policy: ECHO_POLICY,
  },
  {
    name: 'fetchs',
    title: 'Fetch',
    kind: 'native',
    app: 'fetchs',
    port: 3103,
    enabledByDefault: true,
    egress: 'internet',
    sessionState: 'none',
    policy: {
      scopes: { fetch: { description: 'Fetch web pages from the internet on your behalf', initial: true } },
      tools: { fetch: 'fetch' },
      otherTools: 'fetch',
    },
  },
  {
    // The official time server's contract, native: no npm package has it (docs/mcp-services.md, "time").
    name: 'time',
    title: 'Time',
    kind: 'native',
    app: 'time',
    port: 3104,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'none',
  },
  {
    // A remote shell on the host, per user (docs/mcp-services.md, "tmux"): off by default, see TMUX_POLICY.
    name: 'tmux',
    title: 'Terminal (tmux)',
    kind: 'native',
    app: 'tmux',
    port: 3105,
    enabledByDefault: false,
    egress: 'none',
    // The users' tmux servers live beside the process: one replica.
    sessionState: 'process',
    packages: ['tmux'],
    policy: TMUX_POLICY,
  },
  {
    name: 'everything',
    title: 'Everything (MCP reference server)',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3201,
    enabledByDefault: true,
    // gzip-file-as-resource fetches any URL: through the egress proxy only. A protocol test server: opt-in in production.
    egress: 'internet',
    productionOptIn: true,
    sessionState: 'owner',
    stdio: stdioServer('server-everything', ['stdio']),
  },
  {
    name: 'memory',
    title: 'Memory (knowledge graph)',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3202,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'owner',
    stdio: stdioServer('server-memory', [], { MEMORY_FILE_PATH: '${MCP_DATA_DIR}/memory.jsonl' }, true),
    policy: {
      scopes: {
        read: { description: 'Read your knowledge graph', initial: true },
        write: { description: 'Add to, change and delete from your knowledge graph' },
      },
      tools: {
        read_graph: 'read',
        search_nodes: 'read',
        open_nodes: 'read',
        create_entities: 'write',
        create_relations: 'write',
        add_observations: 'write',
        delete_entities: 'write',
        delete_observations: 'write',
        delete_relations: 'write',
      },
      otherTools: 'write',
    },
  },
  {
    name: 'filesystem',
    title: 'Filesystem (workspace)',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3203,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'owner',
    stdio: stdioServer('server-filesystem', ['${MCP_WORKSPACE_DIR}']),
    policy: {
      scopes: {
        read: { description: 'List, search and read the files of your workspace', initial: true },
        write: { description: 'Create, change, move and delete files in your workspace' },
      },
      tools: {
        read_file: 'read',
        read_text_file: 'read',
        read_media_file: 'read',
        read_multiple_files: 'read',
        list_directory: 'read',
        list_directory_with_sizes: 'read',
        directory_tree: 'read',
        search_files: 'read',
        get_file_info: 'read',
        list_allowed_directories: 'read',
        write_file: 'write',
        edit_file: 'write',
        create_directory: 'write',
        move_file: 'write',
      },
      otherTools: 'write',
      resources: 'read',
    },
  },
  {
    name: 'sequential-thinking',
    title: 'Sequential thinking',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3204,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'owner',
    stdio: stdioServer('server-sequential-thinking'),
  },
  {
    // A third-party fetcher (mcp-fetch-server, zcaceres/fetch-mcp); fetchs stays the recommended one (docs/mcp-services.md).
    name: 'fetch',
    title: 'Fetch (mcp-fetch-server)',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3205,
    enabledByDefault: false,
    egress: 'internet',
    sessionState: 'owner',
    // No state beyond one request: one child per user.
    stdio: npmServer('mcp-fetch-server/dist/index.js', { shareable: true }),
  },
  {
    // Microsoft's Playwright MCP driving Debian's Chromium (never a downloaded browser). Its browser_run_code_unsafe
    // runs code in the server process, so it is confined like a shell: off by default, its own network namespace
    // whose only way out is the egress proxy (Chromium's proxy too), a working directory per user, a profile per child.
    name: 'playwright',
    title: 'Browser (Playwright)',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3206,
    enabledByDefault: false,
    egress: 'internet',
    sessionState: 'owner',
    packages: ['chromium'],
    stdio: npmServer('@playwright/mcp/cli.js', {
      args: [
        '--headless',
        '--browser=chromium',
        '--executable-path=/usr/bin/chromium',
        // A profile per child, removed when it exits: Chromium locks a profile, and a user can have two children
        // (a 2025 one and a 2026-07-28 one; or one per session with STDIO_CHILD_PER=session, or STDIO_DATA_SCOPE=shared).
        '--user-data-dir=${MCP_CHILD_DIR}/profile',
        '--output-dir=${MCP_DATA_DIR}/playwright/output',
        '--proxy-server=${EGRESS_PROXY_URL}',
      ],
      cwd: '${MCP_DATA_DIR}',
      // One browser per user, shared by that user's sessions (and their tabs).
      shareable: true,
    }),
  },
];

/** `echo-stateless` → `ECHO_STATELESS`, the infix of `MCP_<NAME>_ENABLED`. */
export function envKeyOf(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
