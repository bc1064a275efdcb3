import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log';
import { IntrospectionController } from './introspection/introspection.controller';
import { JwksController } from './keys/jwks.controller';
import { SigningKeys } from './keys/signing-keys';
import { RevocationController } from './revocation/revocation.controller';
import { RevokedTokens } from '../store/revoked-tokens';
import { AccessTokenVerifier } from './verify/access-token-verifier';
import { VerifyHandler } from './verify/verify.handler';
import { AccessTokenIssuer } from './access-token-issuer';
import { ClientAuthenticator } from '../clients/client-authenticator';
import { TokenController } from './token.controller';
import { TokenFamilies } from '../store/token-families';
import { TokenService } from './token.service';

/** The token side: /token, /jwks, /verify (a plain Fastify route, see main.ts), /revoke, /introspect. */
@Module({
  controllers: [TokenController, JwksController, RevocationController, IntrospectionController],
  providers: [
    VerifyHandler,
    AuditLog,
    SigningKeys,
    RevokedTokens,
    TokenFamilies,
    AccessTokenIssuer,
    AccessTokenVerifier,
    ClientAuthenticator,
    TokenService,
  ],
})
export class TokensModule {}
