import { Body, Controller, Header, Headers, HttpCode, Post } from '@nestjs/common';
import { ClientAuthenticator, credentialsOf } from '../clients/client-authenticator';
import { field, formFields } from '../http/form';
import { TokenService, type TokenResponse } from './token.service';

@Controller()
export class TokenController {
  public constructor(
    private readonly clients: ClientAuthenticator,
    private readonly tokens: TokenService,
  ) {}

  /** RFC 6749 §3.2 token endpoint; §5.1: the response must not be cached. */
  @Post('token')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  public async token(
    @Body() body: unknown,
    @Headers('content-type') contentType?: string,
    @Headers('authorization') authorization?: string,
  ): Promise<TokenResponse> {
    const fields = formFields(body, contentType);
    const client = await this.clients.authenticate(credentialsOf(fields, authorization), '/token');
    return this.tokens.grant(client, {
      grant_type: field(fields, 'grant_type'),
      code: field(fields, 'code'),
      redirect_uri: field(fields, 'redirect_uri'),
      code_verifier: field(fields, 'code_verifier'),
      refresh_token: field(fields, 'refresh_token'),
      scope: field(fields, 'scope'),
      resource: fields['resource'],
    });
  }
}
