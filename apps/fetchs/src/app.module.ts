import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { McpHttpModule, MCP_QUIET_PATHS } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { buildFetchServer } from './fetch/fetch-tool';
import { FetchModule } from './fetch/fetch.module';
import { FetchService } from './fetch/fetch.service';
import { FetchsEnv } from './fetchs.env';

export const FETCHS_VERSION = '0.1.0';

@Module({
  imports: [
    ConfigModule.forRoot(FetchsEnv, 'fetchs'),
    PlatformModule.forRoot({ envClass: FetchsEnv, readiness: { storage: KeyValueStore }, quietPaths: MCP_QUIET_PATHS }),
    StorageModule.forRoot(FetchsEnv),
    FetchModule,
    McpHttpModule.forRoot({
      name: 'fetchs',
      mode: 'stateless',
      envClass: FetchsEnv,
      inject: [FetchService],
      definition:
        (fetchService: FetchService) =>
        ({ identity }) =>
          buildFetchServer(fetchService, identity, FETCHS_VERSION),
    }),
  ],
})
export class AppModule {}
