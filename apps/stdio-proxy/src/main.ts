import { runService } from '@gateway/platform';
import { resolveChildCommand } from './proxy/child-command';
import { StdioProxyEnv } from './stdio-proxy.env';

void runService({
  name: 'stdio-proxy',
  envClass: StdioProxyEnv,
  // An unknown MCP_SERVICE (and no STDIO_COMMAND) stops the boot with the other configuration errors.
  preflight: (env) => void resolveChildCommand(env, null),
  module: async () => (await import('./app.module')).AppModule,
});
