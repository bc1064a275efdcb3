import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@gateway/config';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { AuthEnv } from './auth.env';
import { AUTHORIZE_CONTROLLERS, AUTHORIZE_PROVIDERS } from './authorize/authorize.providers';
import { ClientStore } from './clients/client.store';
import { OAuthExceptionFilter } from './http/oauth-exception.filter';
import { MetadataModule } from './metadata/metadata.module';
import { AccessPolicy } from './policy/access-policy';
import { RegistrationModule } from './registration/registration.module';
import { TOKEN_CONTROLLERS, TOKEN_PROVIDERS } from './token/token.providers';
import { topologyProvider } from './topology.provider';

@Module({
  imports: [
    ConfigModule.forRoot(AuthEnv, 'auth'),
    PlatformModule.forRoot({ envClass: AuthEnv, readiness: { storage: KeyValueStore } }),
    StorageModule.forRoot(AuthEnv),
    MetadataModule,
    RegistrationModule,
  ],
  controllers: [...AUTHORIZE_CONTROLLERS, ...TOKEN_CONTROLLERS],
  providers: [{ provide: APP_FILTER, useClass: OAuthExceptionFilter }, topologyProvider, ClientStore, AccessPolicy, ...AUTHORIZE_PROVIDERS, ...TOKEN_PROVIDERS],
})
export class AppModule {}
