import { runService } from '@gateway/platform';
import { FixtureEnv } from './fixture.env';

/** The conformance fixture over Streamable HTTP, served by @gateway/mcp-session (stateful mode). */
void runService({
  name: 'conformance-fixture',
  envClass: FixtureEnv,
  module: async () => (await import('./app.module')).AppModule,
});
