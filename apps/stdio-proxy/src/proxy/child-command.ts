import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Egress, SERVICES } from '@gateway/catalog';
import { ConfigValidationError } from '@gateway/config';
import type { StdioProxyEnv } from '../stdio-proxy.env';

/** What the proxy spawns for every session. */
export interface ChildCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the SDK's minimal inherited environment (HOME, PATH, ...): the proxy's own secrets never reach the child. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** For logs. */
  readonly label: string;
  /** The network the child needs (catalog `egress`, or STDIO_EGRESS for STDIO_COMMAND): see child-sandbox.ts. */
  readonly egress: Egress;
  /** The catalog says one child may serve all sessions of a user (see StdioCommand.shareable). */
  readonly shareable: boolean;
}

/**
 * The directory name of a user's own data: the SHA-256 of the stable user id (`x-user-id`, e.g. `github:1234`) in
 * hex, so that no id (`..`, `/`, NUL, 10 kB) can name a path outside the users' directory; `anonymous` without an
 * edge (local, no identity header). `echo -n 'github:1234' | sha256sum` finds a user's directory.
 */
export function userDirectoryName(userId: string | null): string {
  return userId === null ? 'anonymous' : createHash('sha256').update(userId, 'utf8').digest('hex');
}

/**
 * The child command for `userId` from STDIO_COMMAND/STDIO_ARGS, or from the catalog entry MCP_SERVICE with
 * `${MCP_DATA_DIR}` and `${MCP_WORKSPACE_DIR}` substituted (made absolute and created). With STDIO_DATA_SCOPE=user
 * (the default) both are `<dir>/users/<userDirectoryName>`, so one user never sees another's memory graph or files
 * (docs/security.md, "Per-user data"); `shared` keeps one directory for everyone.
 * Throws ConfigValidationError, so a bad setting stops the boot with the other configuration errors.
 */
export function resolveChildCommand(env: StdioProxyEnv, userId: string | null): ChildCommand {
  const node = (command: string): string => (command === 'node' ? process.execPath : command);
  const cwd = resolve(env.STDIO_CWD || process.cwd());
  if (env.STDIO_COMMAND) {
    return {
      command: node(env.STDIO_COMMAND),
      args: env.STDIO_ARGS.split(/\s+/).filter(Boolean),
      env: {},
      cwd,
      label: env.STDIO_COMMAND,
      egress: env.STDIO_EGRESS,
      shareable: false,
    };
  }
  const stdioNames = SERVICES.filter((service) => service.stdio).map((service) => service.name);
  const service = SERVICES.find((candidate) => candidate.name === env.MCP_SERVICE && candidate.stdio);
  if (!service?.stdio) {
    throw new ConfigValidationError(
      [`MCP_SERVICE="${env.MCP_SERVICE}": must be one of ${stdioNames.join(', ')} (or set STDIO_COMMAND)`],
      'stdio-proxy',
    );
  }
  const own = (dir: string): string =>
    env.STDIO_DATA_SCOPE === 'shared' ? resolve(dir) : join(resolve(dir), 'users', userDirectoryName(userId));
  const variables: Record<string, string> = {
    MCP_DATA_DIR: own(env.MCP_DATA_DIR),
    MCP_WORKSPACE_DIR: own(env.MCP_WORKSPACE_DIR),
  };
  const substitute = (value: string): string =>
    // Others are left for the sandbox (`${EGRESS_PROXY_URL}`, child-sandbox.ts).
    value.replace(/\$\{(\w+)\}/g, (whole, name: string) => variables[name] ?? whole);
  const stdio = service.stdio;
  const used = JSON.stringify(stdio);
  for (const [name, dir] of Object.entries(variables))
    if (used.includes(`\${${name}}`)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    command: node(stdio.command),
    // The catalog's paths (`node_modules/...`) are relative to the proxy's directory, also for a child run elsewhere.
    args: stdio.args.map((arg) => (arg.startsWith('node_modules/') ? join(cwd, arg) : substitute(arg))),
    env: Object.fromEntries(Object.entries(stdio.env ?? {}).map(([key, value]) => [key, substitute(value)])),
    cwd: stdio.cwd ? substitute(stdio.cwd) : cwd,
    label: service.name,
    egress: service.egress,
    shareable: stdio.shareable === true,
  };
}
