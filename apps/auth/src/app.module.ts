import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@gateway/config';
import { PlatformModule } from '@gateway/platform';
import { KeyValueStore, StorageModule } from '@gateway/storage';
import { AuthEnv } from './config/auth.env';
import { AuthorizationModule } from './authorization/authorization.module';
import { CoreModule } from './core.module';
import { OAuthExceptionFilter } from './http/oauth-exception.filter';
import { MetadataModule } from './metadata/metadata.module';
import { RegistrationModule } from './registration/registration.module';
import { TokensModule } from './tokens/tokens.module';

@Module({
  imports: [
    ConfigModule.forRoot(AuthEnv, 'auth'),
    PlatformModule.forRoot({ envClass: AuthEnv, readiness: { storage: KeyValueStore }, quietPaths: ['/verify'] }),
    StorageModule.forRoot(AuthEnv),
    CoreModule,
    MetadataModule,
    RegistrationModule,
    AuthorizationModule,
    TokensModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: OAuthExceptionFilter }],
})
export class AppModule {}
