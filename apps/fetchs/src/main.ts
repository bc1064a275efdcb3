import { runService } from '@gateway/platform';
import { FetchsEnv } from './fetchs.env';

void runService({
  name: 'fetchs',
  envClass: FetchsEnv,
  module: async () => (await import('./app.module')).AppModule,
});
