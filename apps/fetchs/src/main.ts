import { ConfigValidationError } from '@gateway/config';
import { runService } from '@gateway/platform';
import { AddressPolicy } from '@gateway/egress';
import { FetchsEnv } from './fetchs.env';

void runService({
  name: 'fetchs',
  envClass: FetchsEnv,
  // A bad FETCH_ALLOW / FETCH_DENY entry stops the service with the other configuration errors.
  preflight: (env) => {
    try {
      new AddressPolicy({ allow: env.FETCH_ALLOW, deny: env.FETCH_DENY });
    } catch (error) {
      throw new ConfigValidationError([(error as Error).message], 'fetchs');
    }
  },
  module: async () => (await import('./app.module')).AppModule,
});
