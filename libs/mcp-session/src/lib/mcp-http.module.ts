import { type DynamicModule, Module, type Type } from '@nestjs/common';
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
  /** Builds the MCP server per session (stateful) or per request (stateless). */
  readonly server: McpServerFactory;
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
          inject: [options.envClass, HttpAdapterHost, { token: KeyValueStore, optional: true }],
          useFactory: (env: McpEnv | McpSessionEnv, adapterHost: HttpAdapterHost, store?: KeyValueStore) =>
            new McpEndpoint(
              {
                name: options.name,
                mode: options.mode,
                server: options.server,
                allowedOrigins: env.MCP_ALLOWED_ORIGINS,
                maxBodyBytes: env.MCP_MAX_BODY_BYTES,
                idleSeconds: 'MCP_SESSION_IDLE_TIMEOUT' in env ? env.MCP_SESSION_IDLE_TIMEOUT : undefined,
                store,
              },
              adapterHost,
            ),
        },
      ],
    };
  }
}
