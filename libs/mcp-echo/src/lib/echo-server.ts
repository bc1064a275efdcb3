import { cpus, freemem, hostname, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type McpServerContext, type McpServerFactory, type McpSession, requestContextOf } from '@gateway/mcp-session';
import {
  type CallToolResult,
  McpServer,
  type StandardSchemaWithJSON,
  type ToolCallback,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { decodeBearer, describeTime, groupHeaders, safeEnvironment } from './inspect';

export interface EchoOptions {
  /** `serverInfo.name`. */
  readonly name: string;
  readonly version: string;
  /** MCP_ALLOWED_ORIGINS, for `corsAnalysis`. */
  readonly allowedOrigins: readonly string[];
  /** Stateful: the idle timeout in seconds, shown by `sessionInfo`. */
  readonly idleTimeoutSeconds?: number;
  /** Extra checks for `healthProbe` (e.g. storage); throw when unhealthy. */
  readonly checks?: Readonly<Record<string, () => Promise<void>>>;
}

type Extra = Parameters<typeof requestContextOf>[0];

/**
 * A schema whose JSON Schema form is computed once (Standard JSON Schema `~standard.jsonSchema`): the SDK converts
 * a tool's input schema on every `tools/list` and, for the 2026-07-28 `x-mcp-header` check, on every `tools/call`
 * of a fresh server, i.e. per request. Validation stays zod's own.
 */
function convertedOnce<Input, Output>(
  schema: StandardSchemaWithJSON<Input, Output>,
): StandardSchemaWithJSON<Input, Output> {
  const standard = schema['~standard'];
  const converted = new Map<string, Record<string, unknown>>();
  type Options = Parameters<typeof standard.jsonSchema.input>[0];
  const once =
    (io: 'input' | 'output') =>
    (options: Options): Record<string, unknown> => {
      // Library-specific options may change the result: those calls are not cached.
      if (options.libraryOptions !== undefined) return standard.jsonSchema[io](options);
      const key = `${io} ${options.target}`;
      let json = converted.get(key);
      if (!json) converted.set(key, (json = standard.jsonSchema[io](options)));
      return json;
    };
  return { '~standard': { ...standard, jsonSchema: { input: once('input'), output: once('output') } } };
}

// Schemas are built once per process: the stateless services build a server per request (profile in
// docs/benchmarks.md).
const NO_ARGS = convertedOnce(z.object({}).strict());
const ECHO_ARGS = convertedOnce(z.object({ message: z.string() }).strict());
interface ToolConfig {
  readonly description: string;
  readonly inputSchema: typeof NO_ARGS;
}
const text = (body: string): CallToolResult => ({ content: [{ type: 'text', text: body }] });
const section = (title: string, rows: readonly (readonly [string, unknown])[]): string =>
  [`${title}:`, ...(rows.length ? rows.map(([key, value]) => `  ${key}: ${String(value)}`) : ['  (none)'])].join('\n');
const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

const ECHO_CONFIG = {
  description: 'Returns the message unchanged (stateful: tagged with the session, and remembered for replayLastEcho).',
  inputSchema: ECHO_ARGS,
};

/**
 * The echo servers' tools, for debugging a gateway deployment. No token or cookie value is ever printed,
 * and environmentDump shows an allow-list (docs/security.md).
 * Called once per process: the tools that do not depend on the session (configs, schemas, handlers) are built here;
 * the returned factory registers them on a new McpServer per request or session, and with `context.session`
 * (stateful) adds `replayLastEcho` and `sessionInfo`.
 */
export function echoServer(options: EchoOptions): McpServerFactory {
  const shared: Array<readonly [string, ToolConfig, ToolCallback<typeof NO_ARGS>]> = [];
  const tool = (name: string, description: string, run: (extra: Extra) => Promise<string> | string): void => {
    shared.push([name, { description, inputSchema: NO_ARGS }, async (_args, ctx) => text(await run(ctx))]);
  };

  tool(
    'printHeader',
    'Lists the request headers as this service received them, grouped; credentials are redacted.',
    (extra) => {
      const groups = groupHeaders(requestContextOf(extra).headers);
      return [
        section('Edge (proxy) headers', groups.edge),
        section('Identity headers', groups.identity),
        section('MCP headers', groups.mcp),
        section('Other headers', groups.other),
      ].join('\n\n');
    },
  );

  tool(
    'bearerDecode',
    "Decodes the bearer token's JWT header and claims WITHOUT verifying it (the edge verified it); never shows the signature.",
    (extra) => {
      const decoded = decodeBearer(first(requestContextOf(extra).headers['authorization']));
      if (typeof decoded === 'string') return decoded;
      const times = new Set(['iat', 'exp', 'nbf', 'auth_time']);
      const exp = decoded.claims['exp'];
      return [
        section('JWT header', Object.entries(decoded.header)),
        section(
          'Claims',
          Object.entries(decoded.claims).map(
            ([key, value]) => [key, times.has(key) ? describeTime(value) : JSON.stringify(value)] as const,
          ),
        ),
        typeof exp === 'number' && exp * 1000 < Date.now() ? 'Status: EXPIRED' : 'Status: not expired',
        `Signature: ${decoded.hasSignature ? 'present (not shown, not verified here)' : 'MISSING'}`,
      ].join('\n\n');
    },
  );

  tool(
    'authContext',
    'Shows who the gateway says is calling (identity headers), the session and the request origin.',
    (extra) => {
      const { identity, headers } = requestContextOf(extra);
      const authorization = first(headers['authorization']);
      return [
        section('Identity (from the edge)', [
          ['user id', identity?.userId ?? '(none: no x-user-id, not behind the edge?)'],
          ['user name', identity?.userName ?? '-'],
          ['email', identity?.userEmail ?? '-'],
          ['client id', identity?.clientId ?? '-'],
          ['scope', identity?.scope ?? '-'],
        ]),
        section('Credentials', [
          ['bearer token', authorization ? `present (${authorization.length} chars, not shown)` : 'absent'],
          ['cookies', headers['cookie'] ? 'present (not shown)' : 'absent'],
        ]),
        section('Request', [
          [
            'session',
            first(headers['mcp-session-id']) ??
              (first(headers['mcp-protocol-version']) === '2026-07-28'
                ? '(none: MCP 2026-07-28 has no sessions)'
                : '(none: stateless)'),
          ],
          ['host', first(headers['host']) ?? '-'],
          ['origin', first(headers['origin']) ?? '-'],
          ['referer', first(headers['referer']) ?? '-'],
          ['user agent', first(headers['user-agent']) ?? '-'],
          ['HTTPS at the edge', first(headers['x-forwarded-proto']) === 'https' ? 'yes' : 'no or unknown'],
        ]),
      ].join('\n\n');
    },
  );

  tool('requestTiming', 'Reports how long this request has taken inside the service, and process load.', (extra) => {
    const elapsed = performance.now() - requestContextOf(extra).receivedAt;
    const rating = elapsed < 10 ? 'excellent' : elapsed < 50 ? 'good' : elapsed < 100 ? 'acceptable' : 'slow';
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return section('Timing', [
      ['elapsed in service', `${elapsed.toFixed(2)} ms (${rating})`],
      ['process CPU user/system', `${(cpu.user / 1000).toFixed(0)} / ${(cpu.system / 1000).toFixed(0)} ms`],
      ['RSS', mib(memory.rss)],
      ['heap used', mib(memory.heapUsed)],
      ['load average (1m)', loadavg()[0]?.toFixed(2)],
    ]);
  });

  tool(
    'corsAnalysis',
    'Explains the CORS-relevant request headers and whether this Origin is allowed (MCP_ALLOWED_ORIGINS).',
    (extra) => {
      const { headers } = requestContextOf(extra);
      const origin = first(headers['origin']);
      const verdict =
        origin === undefined
          ? 'no Origin header: a non-browser client, allowed'
          : options.allowedOrigins.includes(origin)
            ? 'allowed (listed in MCP_ALLOWED_ORIGINS)'
            : "allowed (the gateway's own public origin, or * in MCP_ALLOWED_ORIGINS)"; // foreign origins never get here: 403
      return [
        section('Origin', [
          ['origin', origin ?? '-'],
          ['verdict', verdict],
          ['allow-list', options.allowedOrigins.join(', ') || "(empty: only the gateway's own origins)"],
        ]),
        section(
          'Browser request context',
          [
            'sec-fetch-site',
            'sec-fetch-mode',
            'sec-fetch-dest',
            'access-control-request-method',
            'access-control-request-headers',
          ].map((name) => [name, first(headers[name]) ?? '-'] as const),
        ),
        "CORS response headers and preflights are the edge's job (DESIGN: one place), not this service's.",
      ].join('\n\n');
    },
  );

  tool(
    'environmentDump',
    'Shows the service configuration from an allow-list of non-secret keys, and the runtime.',
    () =>
      [
        section('Configuration (allow-listed keys only)', safeEnvironment(process.env)),
        section('Runtime', [
          ['node', process.version],
          ['platform', `${process.platform} ${process.arch}`],
          ['hostname', hostname()],
          ['pid', process.pid],
        ]),
      ].join('\n\n'),
  );

  tool(
    'healthProbe',
    'Reports process health (memory, uptime, load) and dependency checks: HEALTHY or DEGRADED.',
    async () => {
      const checks = await Promise.all(
        Object.entries(options.checks ?? {}).map(async ([name, check]) => {
          try {
            await check();
            return [name, 'ok'] as const;
          } catch (error) {
            return [name, `FAILED (${error instanceof Error ? error.message : String(error)})`] as const;
          }
        }),
      );
      const memory = process.memoryUsage();
      const healthy = checks.every(([, state]) => state === 'ok');
      return [
        `Status: ${healthy ? 'HEALTHY' : 'DEGRADED'}`,
        section('Process', [
          ['pid', process.pid],
          ['uptime', `${process.uptime().toFixed(0)} s`],
          ['RSS', mib(memory.rss)],
          ['heap used/total', `${mib(memory.heapUsed)} / ${mib(memory.heapTotal)}`],
        ]),
        section('Host', [
          ['CPUs', cpus().length],
          [
            'load average',
            loadavg()
              .map((load) => load.toFixed(2))
              .join(' '),
          ],
          ['free memory', `${mib(freemem())} of ${mib(totalmem())}`],
        ]),
        section('Checks', checks),
      ].join('\n\n');
    },
  );

  tool('whoIStheGOAT', 'Names the Greatest Of All Time, after a rigorous analysis of who is calling.', (extra) => {
    const { identity } = requestContextOf(extra);
    const name = identity?.userName ?? identity?.userEmail ?? identity?.userId;
    return name
      ? `After analysing 10^9 parameters of excellence, the verdict is in: the GOAT is ${name}.`
      : 'The GOAT prefers to stay anonymous (no identity headers reached this service).';
  });

  const sessionTools = (server: McpServer, context: McpServerContext, session: McpSession): void => {
    const tool = (name: string, description: string, run: () => Promise<string>): void => {
      server.registerTool(name, { description, inputSchema: NO_ARGS }, async () => text(await run()));
    };
    tool('replayLastEcho', 'Repeats the last message echoed in this session.', async () => {
      const last = (await session.record())?.data['lastEcho'];
      return typeof last === 'string'
        ? `[REPLAY - Session ${session.id.slice(0, 8)}… from ${await clientName(context)}] ${last}`
        : 'No previous echo message found in this session. Use the echo tool first!';
    });

    tool('sessionInfo', "Shows this session and the caller's other live sessions (never other users').", async () => {
      const own = await session.listOwn();
      const current = own.find((record) => record.id === session.id);
      return [
        section('This session', [
          ['id', session.id],
          ['created', current?.createdAt ?? '-'],
          ['last activity', current?.lastActivityAt ?? '-'],
          ['protocol version', current?.protocolVersion ?? '-'],
          ['client', current?.clientInfo ? `${current.clientInfo.name} ${current.clientInfo.version}` : '-'],
          ['idle timeout', `${options.idleTimeoutSeconds ?? '-'} s`],
        ]),
        section(
          `Your sessions (${own.length})`,
          own.map(
            (record) =>
              [
                `${record.id.slice(0, 8)}…`,
                `${record.clientInfo?.name ?? 'unknown client'}, last active ${record.lastActivityAt}`,
              ] as const,
          ),
        ),
      ].join('\n\n');
    });
  };

  return (context) => {
    const server = new McpServer({ name: options.name, version: options.version }, { capabilities: { tools: {} } });
    const { session } = context;
    server.registerTool('echo', ECHO_CONFIG, async ({ message }) => {
      if (!session) return text(message);
      await session.setData('lastEcho', message);
      return text(`[Session ${session.id.slice(0, 8)}… from ${await clientName(context)}] ${message}`);
    });
    for (const [name, config, callback] of shared) server.registerTool(name, config, callback);
    if (session) sessionTools(server, context, session);
    return server;
  };
}

async function clientName(context: McpServerContext): Promise<string> {
  return (await context.session?.record())?.clientInfo?.name ?? 'unknown client';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
