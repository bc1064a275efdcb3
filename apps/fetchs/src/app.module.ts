import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ConfigModule } from '@gateway/config';
import { McpEndpoint } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { buildFetchServer } from './fetch/fetch-tool';
import { FetchService } from './fetch/fetch.service';
import { FetchsEnv } from './fetchs.env';

export const FETCHS_VERSION = '0.1.0';

@Module({
  imports: [
    ConfigModule.forRoot(FetchsEnv, 'fetchs'),
    PlatformModule.forRoot({ envClass: FetchsEnv, readiness: { storage: KeyValueStore } }),
    StorageModule.forRoot(FetchsEnv),
  ],
  providers: [
    FetchService,
    {
      // McpHttpModule.forRoot takes a plain server factory; the fetch tool needs FetchService from DI,
      // so the endpoint is provided here with the same settings McpHttpModule would use.
      provide: McpEndpoint,
      inject: [FetchsEnv, HttpAdapterHost, FetchService],
      useFactory: (env: FetchsEnv, adapterHost: HttpAdapterHost, fetchService: FetchService) =>
        new McpEndpoint(
          {
            name: 'fetchs',
            mode: 'stateless',
            server: ({ identity }) => buildFetchServer(fetchService, identity, FETCHS_VERSION),
            allowedOrigins: env.MCP_ALLOWED_ORIGINS,
            maxBodyBytes: env.MCP_MAX_BODY_BYTES,
          },
          adapterHost,
        ),
    },
  ],
})
export class AppModule {}
