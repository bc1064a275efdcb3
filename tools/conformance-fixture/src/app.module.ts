import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { McpHttpModule } from '@gateway/mcp-session';
import { PlatformModule } from '@gateway/platform';
import { StorageModule } from '@gateway/storage';
import { buildFixtureServer } from './fixture-server';
import { FixtureEnv } from './fixture.env';

@Module({
  imports: [
    ConfigModule.forRoot(FixtureEnv, 'conformance-fixture'),
    PlatformModule.forRoot({ envClass: FixtureEnv }),
    StorageModule.forRoot(FixtureEnv),
    McpHttpModule.forRoot({
      name: 'conformance-fixture',
      mode: 'stateful',
      envClass: FixtureEnv,
      definition: () => () => buildFixtureServer(),
    }),
  ],
})
export class AppModule {}
