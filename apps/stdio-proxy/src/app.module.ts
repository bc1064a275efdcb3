import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { MCP_QUIET_PATHS } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { StdioProxy } from './proxy/stdio-proxy';
import { StdioProxyEnv } from './stdio-proxy.env';

@Module({
  imports: [
    ConfigModule.forRoot(StdioProxyEnv, 'stdio-proxy'),
    PlatformModule.forRoot({
      envClass: StdioProxyEnv,
      readiness: { storage: KeyValueStore },
      quietPaths: MCP_QUIET_PATHS,
    }),
    // The owner registry of replicas (STDIO_PEER_URL); a single replica keeps nothing there, so it opens no
    // connection: its readiness does not follow Redis (the edge would take it out during a Redis outage).
    StorageModule.forRoot(StdioProxyEnv, {
      needsRedis: (env) => env.STDIO_PEER_URL !== '',
      withoutRedis: 'a single replica (no STDIO_PEER_URL) keeps no owner registry',
    }),
  ],
  providers: [StdioProxy],
})
export class AppModule {}
