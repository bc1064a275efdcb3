import { Module } from '@nestjs/common';
import { AuthEnv } from '../config/auth.env';
import { ClientIpResolver } from '../http/client-ip';
import { RateLimiter } from '../http/rate-limiter';
import { RegistrationController } from './registration.controller';
import { RegistrationService } from './registration.service';

@Module({
  controllers: [RegistrationController],
  providers: [
    RegistrationService,
    RateLimiter,
    {
      provide: ClientIpResolver,
      inject: [AuthEnv],
      useFactory: (env: AuthEnv) => new ClientIpResolver(env.TRUSTED_PROXIES),
    },
  ],
})
export class RegistrationModule {}
