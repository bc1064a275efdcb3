import { Module } from '@nestjs/common';
import { ConfigModule } from '@gateway/config';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { EchoStatefulEnv } from './echo-stateful.env';

@Module({
  imports: [
    ConfigModule.forRoot(EchoStatefulEnv, 'echo-stateful'),
    PlatformModule.forRoot({ envClass: EchoStatefulEnv, readiness: { storage: KeyValueStore } }),
    StorageModule.forRoot(EchoStatefulEnv),
  ],
})
export class AppModule {}
