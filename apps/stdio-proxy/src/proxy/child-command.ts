import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVICES } from '@gateway/catalog';
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
  /** The catalog says one child may serve all sessions of a user (see StdioCommand.shareable). */
  readonly shareable: boolean;
}

/**
 * The child command from STDIO_COMMAND/STDIO_ARGS, or from the catalog entry MCP_SERVICE with
 * `${MCP_DATA_DIR}` and `${MCP_WORKSPACE_DIR}` substituted (both made absolute and created).
 * Throws ConfigValidationError, so a bad setting stops the boot with the other configuration errors.
 */
export function resolveChildCommand(env: StdioProxyEnv): ChildCommand {
  const node = (command: string): string => (command === 'node' ? process.execPath : command);
  const cwd = resolve(env.STDIO_CWD || process.cwd());
  if (env.STDIO_COMMAND) {
    return {
      command: node(env.STDIO_COMMAND),
      args: env.STDIO_ARGS.split(/\s+/).filter(Boolean),
      env: {},
      cwd,
      label: env.STDIO_COMMAND,
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
  const variables: Record<string, string> = {
    MCP_DATA_DIR: resolve(env.MCP_DATA_DIR),
    MCP_WORKSPACE_DIR: resolve(env.MCP_WORKSPACE_DIR),
  };
  const substitute = (value: string): string =>
    value.replace(/\$\{(\w+)\}/g, (_, name: string) => variables[name] ?? '');
  const stdio = service.stdio;
  const used = JSON.stringify(stdio);
  for (const [name, dir] of Object.entries(variables))
    if (used.includes(`\${${name}}`)) mkdirSync(dir, { recursive: true });
  return {
    command: node(stdio.command),
    args: stdio.args.map(substitute),
    env: Object.fromEntries(Object.entries(stdio.env ?? {}).map(([key, value]) => [key, substitute(value)])),
    cwd,
    label: service.name,
    shareable: stdio.shareable === true,
  };
}
