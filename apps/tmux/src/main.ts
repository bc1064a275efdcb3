import { runService } from '@gateway/platform';
import { TmuxEnv } from './tmux.env';

void runService({
  name: 'tmux',
  envClass: TmuxEnv,
  module: async () => (await import('./app.module')).AppModule,
});
