import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { SignJWT } from 'jose';
import { AuthEnv } from '../config/auth.env';
import { SigningKeys } from './keys/signing-keys';
import type { UserIdentity } from '../store/records';
import { TOPOLOGY } from '../config/topology.provider';

export interface AccessTokenRequest {
  readonly user: UserIdentity;
  readonly clientId: string;
  /** The service's canonical MCP URL: the token's `aud` (RFC 8707). */
  readonly resource: string;
  readonly scope: string;
  readonly familyId: string;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresIn: number;
}

/** `jti` = `<family id>.<random>`: /verify finds the token's family (and the user's full identity) from it. */
export function familyOfJti(jti: string): string {
  return jti.slice(0, jti.indexOf('.'));
}

/**
 * Mints access tokens: JWT profile of RFC 9068 (header `typ: at+jwt` and `kid`; claims iss, sub, aud,
 * client_id, scope, iat, exp, jti) plus the user's login, name and email for the MCP services. Signed with
 * jose (a well-kept, dependency-free JOSE implementation) using the current key of the ring.
 */
@Injectable()
export class AccessTokenIssuer {
  public constructor(
    private readonly keys: SigningKeys,
    private readonly env: AuthEnv,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  public async issue(request: AccessTokenRequest): Promise<IssuedAccessToken> {
    const key = await this.keys.signingKey();
    const jti = `${request.familyId}.${randomBytes(12).toString('base64url')}`;
    const { user } = request;
    const token = await new SignJWT({
      client_id: request.clientId,
      scope: request.scope,
      login: user.login,
      ...(user.name ? { name: user.name } : {}),
      ...(user.email ? { email: user.email } : {}),
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.topology.issuer)
      .setSubject(user.sub)
      .setAudience(request.resource)
      .setIssuedAt()
      .setExpirationTime(`${this.env.ACCESS_TOKEN_LIFETIME}s`)
      .setJti(jti)
      .sign(key.privateKey);
    return { token, jti, expiresIn: this.env.ACCESS_TOKEN_LIFETIME };
  }
}
