import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { AuthEnv } from './auth.env';

@Module({
  imports: [
    ConfigModule.forRoot(AuthEnv, 'auth'),
    PlatformModule.forRoot({ envClass: AuthEnv, readiness: { storage: KeyValueStore } }),
    StorageModule.forRoot(AuthEnv),
  ],
})
export class AppModule {}
