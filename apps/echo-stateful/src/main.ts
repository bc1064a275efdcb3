import { runService } from '@gateway/platform';
import { EchoStatefulEnv } from './echo-stateful.env';

void runService({
  name: 'echo-stateful',
  envClass: EchoStatefulEnv,
  module: async () => (await import('./app.module')).AppModule,
});
