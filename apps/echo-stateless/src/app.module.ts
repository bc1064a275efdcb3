import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { echoServer } from '@gateway/mcp-echo';
import { McpHttpModule, MCP_QUIET_PATHS } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { EchoStatelessEnv } from './echo-stateless.env';

export const ECHO_VERSION = '0.1.0';

@Module({
  imports: [
    ConfigModule.forRoot(EchoStatelessEnv, 'echo-stateless'),
    PlatformModule.forRoot({ envClass: EchoStatelessEnv, quietPaths: MCP_QUIET_PATHS }),
    McpHttpModule.forRoot({
      name: 'echo-stateless',
      mode: 'stateless',
      envClass: EchoStatelessEnv,
      inject: [EchoStatelessEnv],
      definition: (env: EchoStatelessEnv) =>
        echoServer({ name: 'echo-stateless', version: ECHO_VERSION, allowedOrigins: env.MCP_ALLOWED_ORIGINS }),
    }),
  ],
})
export class AppModule {}
