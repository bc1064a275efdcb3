import { Module } from '@nestjs/common';
import { IntrospectionController } from './introspection/introspection.controller';
import { JwksController } from './keys/jwks.controller';
import { SigningKeys } from './keys/signing-keys';
import { RevocationController } from './revocation/revocation.controller';
import { AccessTokenVerifier } from './verify/access-token-verifier';
import { VerifyHandler } from './verify/verify.handler';
import { AccessTokenIssuer } from './access-token-issuer';
import { ClientAssertionVerifier } from '../clients/client-assertion';
import { ClientAuthenticator } from '../clients/client-authenticator';
import { TokenController } from './token.controller';
import { TokenService } from './token.service';

/** The tokens wing (docs/auth.md "Layout"): /token, /jwks, /verify (a plain Fastify route, see main.ts), /revoke, /introspect. */
@Module({
  controllers: [TokenController, JwksController, RevocationController, IntrospectionController],
  providers: [
    VerifyHandler,
    SigningKeys,
    AccessTokenIssuer,
    AccessTokenVerifier,
    ClientAuthenticator,
    ClientAssertionVerifier,
    TokenService,
  ],
})
export class TokensModule {}
