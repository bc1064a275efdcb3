import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { McpHttpModule, MCP_QUIET_PATHS } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { buildTmuxServer } from './tmux/tmux-server';
import { TmuxServers } from './tmux/tmux-servers';
import { TmuxEnv } from './tmux.env';

export const TMUX_VERSION = '0.1.0';

/** Provides TmuxServers to the whole app (global, so that McpHttpModule can inject it into the server factory). */
@Global()
@Module({ providers: [TmuxServers], exports: [TmuxServers] })
class TmuxServersModule {}

@Module({
  imports: [
    ConfigModule.forRoot(TmuxEnv, 'tmux'),
    PlatformModule.forRoot({ envClass: TmuxEnv, quietPaths: MCP_QUIET_PATHS }),
    TmuxServersModule,
    McpHttpModule.forRoot({
      name: 'tmux',
      mode: 'stateless',
      envClass: TmuxEnv,
      inject: [TmuxServers],
      definition:
        (servers: TmuxServers) =>
        ({ identity }) =>
          buildTmuxServer(servers, identity, TMUX_VERSION),
    }),
  ],
})
export class AppModule {}
