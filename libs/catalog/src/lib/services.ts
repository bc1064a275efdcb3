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
 * `none` (nothing), `store` (the shared KeyValueStore: any replica serves any session), `process` (in the
 * process that created it: one replica only, see docs/kubernetes.md).
 */
export type SessionState = 'none' | 'store' | 'process';

export interface StdioCommand {
  /** Executable; `node` runs the current Node.js binary. */
  readonly command: string;
  readonly args: readonly string[];
  /** Environment keys passed to the child (values may reference `${VAR}` of the proxy's environment). */
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
  /** Debian packages the service needs at run time (its container image installs them; `npm start` expects them). */
  readonly packages?: readonly string[];
}

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

/**
 * tmux is a remote shell: every tool needs the scope `shell` (on the wire `tmux:shell`), which is never asked for
 * first (step-up only) and which an operator grants to named people. Data in the shape of the per-tool policy of
 * issue 18 (`ServicePolicyDefinition`): the tmux entry takes it as `policy` when that lands. Until then the service
 * is off by default and every signed-in user of an enabled tmux gets a shell (docs/mcp-services.md, "tmux").
 */
export const TMUX_POLICY = {
  scopes: { shell: { description: 'Run commands in a terminal on the gateway host (a remote shell)', initial: false } },
  otherTools: 'shell',
} as const;

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
    sessionState: 'process',
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
    sessionState: 'process',
    stdio: stdioServer('server-memory', [], { MEMORY_FILE_PATH: '${MCP_DATA_DIR}/memory.jsonl' }, true),
  },
  {
    name: 'filesystem',
    title: 'Filesystem (workspace)',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3203,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'process',
    stdio: stdioServer('server-filesystem', ['${MCP_WORKSPACE_DIR}']),
  },
  {
    name: 'sequential-thinking',
    title: 'Sequential thinking',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3204,
    enabledByDefault: true,
    egress: 'none',
    sessionState: 'process',
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
    sessionState: 'process',
    // No state beyond one request: one child per user.
    stdio: npmServer('mcp-fetch-server/dist/index.js', { shareable: true }),
  },
  {
    // Microsoft's Playwright MCP driving Debian's Chromium (never a downloaded browser). Its browser_run_code_unsafe
    // runs code in the server process, so it is confined like a shell: off by default, its own network namespace
    // whose only way out is the egress proxy (Chromium's proxy too), a profile and working directory per user.
    name: 'playwright',
    title: 'Browser (Playwright)',
    kind: 'stdio',
    app: 'stdio-proxy',
    port: 3206,
    enabledByDefault: false,
    egress: 'internet',
    sessionState: 'process',
    packages: ['chromium'],
    stdio: npmServer('@playwright/mcp/cli.js', {
      args: [
        '--headless',
        '--browser=chromium',
        '--executable-path=/usr/bin/chromium',
        '--user-data-dir=${MCP_DATA_DIR}/playwright/profile',
        '--output-dir=${MCP_DATA_DIR}/playwright/output',
        '--proxy-server=${EGRESS_PROXY_URL}',
      ],
      cwd: '${MCP_DATA_DIR}',
      // One browser (and profile, which Chromium locks) per user, shared by that user's sessions.
      shareable: true,
    }),
  },
];

/** `echo-stateless` → `ECHO_STATELESS`, the infix of `MCP_<NAME>_ENABLED`. */
export function envKeyOf(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
