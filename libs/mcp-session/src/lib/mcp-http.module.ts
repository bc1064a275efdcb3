import { auditStream } from '@gateway/platform';
import { ToolPolicy } from './tool-policy';
import { type DynamicModule, type InjectionToken, Module, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { KeyValueStore } from '@gateway/storage';
import type { McpEnv, McpSessionEnv } from './mcp-env';
import { McpEndpoint, type McpServerFactory } from './mcp-endpoint';

export interface McpHttpOptions {
  /** Service name (storage keys, log context). */
  readonly name: string;
  /** `stateless`: a fresh server per POST, GET/DELETE → 405. `stateful`: sessions in storage (needs `StorageModule`). */
  readonly mode: 'stateless' | 'stateful';
  /** The app's validated env class: `McpEnv` (stateless) or `McpSessionEnv` (stateful) or a subclass. */
  readonly envClass: Type<McpEnv | McpSessionEnv>;
  /** Providers handed to `definition`, e.g. the env class. */
  readonly inject?: readonly InjectionToken[];
  /**
   * Called once per process with the injected providers: build what does not depend on the request here (tool
   * definitions, schemas, validators) and return the factory of the McpServer for one request (stateless, and
   * every 2026-07-28 request) or one session. The SDK v2 serves each request with a fresh server instance
   * (createMcpHandler), so the factory should only register what was built.
   */
  readonly definition: (...injected: never[]) => McpServerFactory;
}

/** Serves MCP Streamable HTTP at `/mcp` (and `/mcp/`) of a Nest + Fastify app. */
@Module({})
export class McpHttpModule {
  public static forRoot(options: McpHttpOptions): DynamicModule {
    return {
      module: McpHttpModule,
      providers: [
        {
          provide: McpEndpoint,
          inject: [
            options.envClass,
            HttpAdapterHost,
            { token: KeyValueStore, optional: true },
            ...(options.inject ?? []),
          ],
          useFactory: (
            env: McpEnv | McpSessionEnv,
            adapterHost: HttpAdapterHost,
            store?: KeyValueStore,
            ...injected: never[]
          ) =>
            new McpEndpoint(
              {
                name: options.name,
                mode: options.mode,
                server: options.definition(...injected),
                allowedOrigins: env.MCP_ALLOWED_ORIGINS,
                localhostOrigins: env.NODE_ENV !== 'production',
                topology: env.topology,
                maxBodyBytes: env.MCP_MAX_BODY_BYTES,
                idleSeconds: 'MCP_SESSION_IDLE_TIMEOUT' in env ? env.MCP_SESSION_IDLE_TIMEOUT : undefined,
                requestTimeoutMs: env.MCP_REQUEST_TIMEOUT * 1000,
                store,
                policy: toolPolicyFor(env, options.name),
              },
              adapterHost,
            ),
        },
      ],
    };
  }
}

/**
 * The per-tool policy of catalog service `name` with the audit stream (docs/authorization.md); none for a
 * service the catalog does not know.
 */
export function toolPolicyFor(env: McpEnv | McpSessionEnv, name: string): ToolPolicy | undefined {
  const service = env.topology.services.find((candidate) => candidate.name === name);
  return service ? new ToolPolicy(service, auditStream(env.AUDIT_LOG_FILE)) : undefined;
}
