import { Body, Controller, Header, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { OAuthError } from '@gateway/oauth';
import { TOPOLOGY } from '../config/topology.provider';
import { SERVICE_ISSUER_SEGMENT, serviceOfIssuerName } from '../metadata/service-issuer';
import { ClientAuthenticator, credentialsOf } from '../clients/client-authenticator';
import { field, formFields } from '../http/form';
import { TokenService, type TokenResponse } from './token.service';

@Controller()
export class TokenController {
  public constructor(
    private readonly clients: ClientAuthenticator,
    private readonly tokens: TokenService,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  /**
   * RFC 6749 §3.2 token endpoint; §5.1: the response must not be cached. `/as/<service>/token` is a service's
   * own authorization server (docs/auth.md): `resource` defaults to that service, so a code or refresh token
   * granted for another service is refused (RFC 8707 §2.2).
   */
  @Post(['token', `${SERVICE_ISSUER_SEGMENT.slice(1)}/:service/token`])
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  public async token(
    @Body() body: unknown,
    @Headers('content-type') contentType?: string,
    @Headers('authorization') authorization?: string,
    @Param('service') name?: string,
  ): Promise<TokenResponse> {
    const scoped = name === undefined ? undefined : serviceOfIssuerName(this.topology, name);
    if (name !== undefined && !scoped)
      throw new OAuthError(
        'invalid_request',
        `no authorization server is served for ${JSON.stringify(name.slice(0, 60))}`,
        {
          status: 404,
        },
      );
    const fields = formFields(body, contentType);
    const client = await this.clients.authenticate(
      credentialsOf(fields, authorization),
      scoped ? `${SERVICE_ISSUER_SEGMENT}/${scoped.name}/token` : '/token',
    );
    return this.tokens.grant(client, {
      grant_type: field(fields, 'grant_type'),
      code: field(fields, 'code'),
      redirect_uri: field(fields, 'redirect_uri'),
      code_verifier: field(fields, 'code_verifier'),
      refresh_token: field(fields, 'refresh_token'),
      scope: field(fields, 'scope'),
      resource: fields['resource'] ?? scoped?.mcpUrl,
    });
  }
}
