import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { McpHttpModule, MCP_QUIET_PATHS } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { buildTimeServer } from './time/time-server';
import { TimeEnv } from './time.env';

export const TIME_VERSION = '0.1.0';

@Module({
  imports: [
    ConfigModule.forRoot(TimeEnv, 'time'),
    PlatformModule.forRoot({ envClass: TimeEnv, quietPaths: MCP_QUIET_PATHS }),
    McpHttpModule.forRoot({
      name: 'time',
      mode: 'stateless',
      envClass: TimeEnv,
      inject: [TimeEnv],
      definition: (env: TimeEnv) => () => buildTimeServer(TIME_VERSION, env.TIME_LOCAL_TIMEZONE),
    }),
  ],
})
export class AppModule {}
