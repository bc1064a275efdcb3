import { Module } from '@nestjs/common';
import { ConsentController } from './consent/consent.controller';
import { ConsentStore } from './consent/consent.store';
import { CallbackController } from './login/callback.controller';
import { DevLoginController } from './login/dev-login.controller';
import { loginProvider } from './login/login-provider.factory';
import { LoginStateStore } from './login/login-state.store';
import { AuthorizationFlow } from './authorization-flow.service';
import { AuthorizeController } from './authorize.controller';

/** The authorization side: /authorize, the upstream login (/callback, /login/dev) and consent. */
@Module({
  controllers: [AuthorizeController, CallbackController, DevLoginController, ConsentController],
  providers: [loginProvider, LoginStateStore, ConsentStore, AuthorizationFlow],
})
export class AuthorizationModule {}
