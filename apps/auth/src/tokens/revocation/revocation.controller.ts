import { Body, Controller, Header, Headers, HttpCode, Post } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import { ENDPOINT_PATHS } from '../../http/endpoints';
import { AuditLog } from '../../audit/audit-log';
import { ClientAuthenticator, credentialsOf } from '../../clients/client-authenticator';
import { field, formFields } from '../../http/form';
import { TokenFamilies } from '../../store/token-families';
import { AccessTokenVerifier } from '../verify/access-token-verifier';
import { RevokedTokens } from '../../store/revoked-tokens';

/**
 * RFC 7009 token revocation. The client authenticates and may revoke only tokens issued to it (§2.1,
 * docs/security.md S7). Revoking a refresh token revokes its whole grant, access tokens included (§2.1
 * "SHOULD"); revoking an access token revokes that token. Unknown tokens: 200 (§2.2).
 */
@Controller()
export class RevocationController {
  public constructor(
    private readonly clients: ClientAuthenticator,
    private readonly families: TokenFamilies,
    private readonly verifier: AccessTokenVerifier,
    private readonly revoked: RevokedTokens,
    private readonly audit: AuditLog,
  ) {}

  @Post('revoke')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  public async revoke(
    @Body() body: unknown,
    @Headers('content-type') contentType?: string,
    @Headers('authorization') authorization?: string,
  ): Promise<string> {
    const fields = formFields(body, contentType);
    const client = await this.clients.authenticate(credentialsOf(fields, authorization), ENDPOINT_PATHS.revocation);
    const token = field(fields, 'token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    const hint = field(fields, 'token_type_hint');
    const refreshToken = (): Promise<string | undefined> => this.revokeRefresh(token, client.clientId);
    const accessToken = (): Promise<string | undefined> => this.revokeAccess(token, client.clientId);
    // §2.1: the hint only orders the lookups.
    for (const lookup of hint === 'access_token' ? [accessToken, refreshToken] : [refreshToken, accessToken]) {
      const owner = await lookup();
      if (owner === undefined) continue;
      if (owner !== client.clientId)
        throw new OAuthError('unauthorized_client', 'this token was not issued to this client');
      return '';
    }
    return '';
  }

  /** The owner of a refresh token, after revoking its family if the caller owns it. */
  private async revokeRefresh(token: string, clientId: string): Promise<string | undefined> {
    const found = await this.families.familyOfRefreshToken(token);
    if (found && found.clientId === clientId) {
      await this.families.revoke(found.familyId);
      this.audit.record('token.revoked', {
        reasonCode: 'revocation_requested',
        client: clientId,
        kind: 'refresh_token',
        family: found.familyId,
      });
    }
    return found?.clientId;
  }

  private async revokeAccess(token: string, clientId: string): Promise<string | undefined> {
    const claims = await this.verifier.verify(token);
    if (claims && claims.clientId === clientId) {
      await this.revoked.revoke(claims.jti, claims.exp - Math.floor(Date.now() / 1000));
      this.audit.record('token.revoked', {
        reasonCode: 'revocation_requested',
        user: claims.sub,
        client: clientId,
        kind: 'access_token',
        jti: claims.jti,
      });
    }
    return claims?.clientId;
  }
}
