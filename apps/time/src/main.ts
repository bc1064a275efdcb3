import { ConfigValidationError } from '@gateway/config';
import { runService } from '@gateway/platform';
import { currentTime } from './time/zoned-time';
import { TimeEnv } from './time.env';

void runService({
  name: 'time',
  envClass: TimeEnv,
  // An unknown TIME_LOCAL_TIMEZONE stops the service with the other configuration errors.
  preflight: (env) => {
    try {
      currentTime(env.TIME_LOCAL_TIMEZONE);
    } catch (error) {
      throw new ConfigValidationError([`TIME_LOCAL_TIMEZONE: ${(error as Error).message}`], 'time');
    }
  },
  module: async () => (await import('./app.module')).AppModule,
});
