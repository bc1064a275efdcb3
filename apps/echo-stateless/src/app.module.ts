import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { PlatformModule } from '@gateway/platform';
import { EchoStatelessEnv } from './echo-stateless.env';

@Module({
  imports: [ConfigModule.forRoot(EchoStatelessEnv, 'echo-stateless'), PlatformModule.forRoot({ envClass: EchoStatelessEnv })],
})
export class AppModule {}
