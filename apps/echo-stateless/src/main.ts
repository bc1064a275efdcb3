import { runService } from '@gateway/platform';
import { EchoStatelessEnv } from './echo-stateless.env';

void runService({
  name: 'echo-stateless',
  envClass: EchoStatelessEnv,
  module: async () => (await import('./app.module')).AppModule,
});
