import { Module } from '@nestjs/common';
import { AuthEnv } from '../auth.env';
import { ClientStore } from '../clients/client.store';
import { ClientIpResolver } from '../http/client-ip';
import { RateLimiter } from '../http/rate-limiter';
import { topologyProvider } from '../topology.provider';
import { RegistrationController } from './registration.controller';
import { RegistrationService } from './registration.service';

@Module({
  controllers: [RegistrationController],
  providers: [
    RegistrationService,
    ClientStore,
    RateLimiter,
    topologyProvider,
    { provide: ClientIpResolver, inject: [AuthEnv], useFactory: (env: AuthEnv) => new ClientIpResolver(env.TRUSTED_PROXIES) },
  ],
})
export class RegistrationModule {}
