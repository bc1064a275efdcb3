import { runService } from '@gateway/platform';
import { StdioProxyEnv } from './stdio-proxy.env';

void runService({
  name: 'stdio-proxy',
  envClass: StdioProxyEnv,
  module: async () => (await import('./app.module')).AppModule,
});
