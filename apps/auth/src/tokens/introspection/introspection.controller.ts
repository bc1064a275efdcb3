import { Body, Controller, Header, Headers, HttpCode, Post } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import { ENDPOINT_PATHS } from '../../http/endpoints';
import { AuthEnv } from '../../config/auth.env';
import { RevokedTokens } from '../../store/revoked-tokens';
import { ClientAuthenticator, credentialsOf } from '../../clients/client-authenticator';
import { field, formFields } from '../../http/form';
import { TokenFamilies } from '../../store/token-families';
import { AccessTokenVerifier } from '../verify/access-token-verifier';

/** RFC 7662 §2.2 response (only `active` when inactive). */
export type IntrospectionResponse = { readonly active: false } | ({ readonly active: true } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * RFC 7662 token introspection. The caller authenticates as a client and learns about its own tokens
 * only: any other token is `{"active": false}` (§2.2, §4; docs/security.md S7).
 */
@Controller()
export class IntrospectionController {
  public constructor(
    private readonly clients: ClientAuthenticator,
    private readonly verifier: AccessTokenVerifier,
    private readonly revoked: RevokedTokens,
    private readonly families: TokenFamilies,
    private readonly env: AuthEnv,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  public async introspect(
    @Body() body: unknown,
    @Headers('content-type') contentType?: string,
    @Headers('authorization') authorization?: string,
  ): Promise<IntrospectionResponse> {
    const fields = formFields(body, contentType);
    const client = await this.clients.authenticate(credentialsOf(fields, authorization), ENDPOINT_PATHS.introspection);
    const token = field(fields, 'token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    return (
      (await this.accessToken(token, client.clientId)) ?? (await this.refreshToken(token, client.clientId)) ?? INACTIVE
    );
  }

  private async accessToken(token: string, clientId: string): Promise<IntrospectionResponse | undefined> {
    const claims = await this.verifier.verify(token);
    if (!claims || claims.clientId !== clientId || (await this.revoked.isRevoked(claims.jti))) return undefined;
    return {
      active: true,
      token_type: 'Bearer',
      scope: claims.scope,
      client_id: claims.clientId,
      username: claims.user.login,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
    };
  }

  private async refreshToken(token: string, clientId: string): Promise<IntrospectionResponse | undefined> {
    const record = await this.families.findRefreshToken(token);
    const family = record ? await this.families.get(record.familyId) : null;
    if (!record || !family || record.clientId !== clientId) return undefined;
    return {
      active: true,
      token_type: 'refresh_token',
      scope: family.scope,
      client_id: clientId,
      username: family.user.login,
      sub: family.user.sub,
      aud: family.resource,
      iat: record.issuedAt,
      exp: record.issuedAt + this.env.REFRESH_TOKEN_LIFETIME,
    };
  }
}
