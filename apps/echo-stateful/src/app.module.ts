import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { echoServer } from '@gateway/mcp-echo';
import { McpHttpModule, MCP_QUIET_PATHS } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { EchoStatefulEnv } from './echo-stateful.env';

export const ECHO_VERSION = '0.1.0';

@Module({
  imports: [
    ConfigModule.forRoot(EchoStatefulEnv, 'echo-stateful'),
    PlatformModule.forRoot({
      envClass: EchoStatefulEnv,
      readiness: { storage: KeyValueStore },
      quietPaths: MCP_QUIET_PATHS,
    }),
    StorageModule.forRoot(EchoStatefulEnv),
    McpHttpModule.forRoot({
      name: 'echo-stateful',
      mode: 'stateful',
      envClass: EchoStatefulEnv,
      inject: [EchoStatefulEnv, KeyValueStore],
      definition: (env: EchoStatefulEnv, store: KeyValueStore) =>
        echoServer({
          name: 'echo-stateful',
          version: ECHO_VERSION,
          allowedOrigins: env.MCP_ALLOWED_ORIGINS,
          idleTimeoutSeconds: env.MCP_SESSION_IDLE_TIMEOUT,
          checks: { storage: () => store.ping() },
        }),
    }),
  ],
})
export class AppModule {}
