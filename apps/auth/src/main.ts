import { runService } from '@gateway/platform';
import { AuthEnv } from './auth.env';

void runService({
  name: 'auth',
  envClass: AuthEnv,
  module: async () => (await import('./app.module')).AppModule,
});
