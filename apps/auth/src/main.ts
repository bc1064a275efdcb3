import { loadRawEnv } from '@gateway/config';
import { resolveTopology } from '@gateway/catalog';
import { runService } from '@gateway/platform';
import { AuthEnv } from './auth.env';

void runService({
  name: 'auth',
  envClass: AuthEnv,
  // The catalog's keys are validated before boot too, so a bad MCP_<NAME>_ENABLED stops auth with a message.
  preflight: () => void resolveTopology(loadRawEnv()),
  module: async () => (await import('./app.module')).AppModule,
});
