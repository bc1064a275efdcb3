import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { PlatformModule } from '@gateway/platform';
import { StdioProxy } from './proxy/stdio-proxy';
import { StdioProxyEnv } from './stdio-proxy.env';

@Module({
  imports: [ConfigModule.forRoot(StdioProxyEnv, 'stdio-proxy'), PlatformModule.forRoot({ envClass: StdioProxyEnv })],
  providers: [StdioProxy],
})
export class AppModule {}
