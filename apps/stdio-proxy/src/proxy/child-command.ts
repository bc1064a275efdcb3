import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
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
  /**
   * The directory of this one child (catalog `${MCP_CHILD_DIR}`, e.g. playwright's browser profile, which two
   * browsers must not share): a fresh name per command, created by {@link prepareChildDir} before the child starts
   * and removed by {@link removeChildDir} once it exited. Undefined when the catalog does not use it.
   */
  readonly childDir?: string | undefined;
}

const removals = new Set<Promise<void>>();

/** Creates the child's own directory (if it has one, mode 0700) before it starts. */
export function prepareChildDir(command: ChildCommand): void {
  if (command.childDir) mkdirSync(command.childDir, { recursive: true, mode: 0o700 });
}

/**
 * Removes the child's own directory once the child exited; idempotent. Retried a few times: the child's own
 * children (a browser) may still write their last files for a moment after it is gone.
 */
export function removeChildDir(command: ChildCommand): Promise<void> {
  if (!command.childDir) return Promise.resolve();
  const removal = rm(command.childDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(
    () => undefined,
  );
  removals.add(removal);
  void removal.finally(() => removals.delete(removal));
  return removal;
}

/** Resolves once every removal started so far has ended (the proxy's shutdown waits for them). */
export async function childDirsRemoved(): Promise<void> {
  await Promise.allSettled([...removals]);
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
 * `${MCP_DATA_DIR}` and `${MCP_WORKSPACE_DIR}` substituted (made absolute and created), and `${MCP_CHILD_DIR}` by a
 * directory of this child alone, `<data dir>/children/<random>` (see ChildCommand.childDir). With STDIO_DATA_SCOPE=user
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
  const stdio = service.stdio;
  const used = JSON.stringify(stdio);
  const dataDir = own(env.MCP_DATA_DIR);
  // Each call names a new one: every child started from this command gets its own (a command is used once).
  const childDir = used.includes('${MCP_CHILD_DIR}') ? join(dataDir, 'children', randomUUID()) : undefined;
  const variables: Record<string, string> = {
    MCP_DATA_DIR: dataDir,
    MCP_WORKSPACE_DIR: own(env.MCP_WORKSPACE_DIR),
    ...(childDir ? { MCP_CHILD_DIR: childDir } : {}),
  };
  const substitute = (value: string): string =>
    // Others are left for the sandbox (`${EGRESS_PROXY_URL}`, child-sandbox.ts).
    value.replace(/\$\{(\w+)\}/g, (whole, name: string) => variables[name] ?? whole);
  for (const [name, dir] of Object.entries(variables))
    if (name !== 'MCP_CHILD_DIR' && used.includes(`\${${name}}`)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    command: node(stdio.command),
    // The catalog's paths (`node_modules/...`) are relative to the proxy's directory, also for a child run elsewhere.
    args: stdio.args.map((arg) => (arg.startsWith('node_modules/') ? join(cwd, arg) : substitute(arg))),
    env: Object.fromEntries(Object.entries(stdio.env ?? {}).map(([key, value]) => [key, substitute(value)])),
    cwd: stdio.cwd ? substitute(stdio.cwd) : cwd,
    label: service.name,
    egress: service.egress,
    shareable: stdio.shareable === true,
    childDir,
  };
}
