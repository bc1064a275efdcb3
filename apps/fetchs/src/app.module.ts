import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { PlatformModule } from '@gateway/platform';
import { FetchsEnv } from './fetchs.env';

@Module({
  imports: [ConfigModule.forRoot(FetchsEnv, 'fetchs'), PlatformModule.forRoot({ envClass: FetchsEnv })],
})
export class AppModule {}
