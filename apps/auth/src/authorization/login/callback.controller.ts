import { Controller, Get, Inject, Logger, Req, Res, UseFilters } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { OAuthError } from '@gateway/oauth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationFlow } from '../authorization-flow.service';
import { PageExceptionFilter } from '../../pages/page-exception.filter';
import { sendErrorPage } from '../../pages/pages';
import { TOPOLOGY } from '../../config/topology.provider';
import { isSameBrowser } from './browser-binding';
import { CALLBACK_PATH } from './login-provider.factory';
import { LoginProvider } from './login-provider';
import { LoginStateStore } from './login-state.store';

/**
 * The upstream IdP's redirect back (ISSUER/callback). Every outcome once the state is known goes back
 * to the client, including the IdP's own denial (RFC 6749 §4.1.2.1; docs/security.md S12).
 */
@UseFilters(PageExceptionFilter)
@Controller()
export class CallbackController {
  private readonly logger = new Logger(CallbackController.name);

  public constructor(
    private readonly provider: LoginProvider,
    private readonly logins: LoginStateStore,
    private readonly flow: AuthorizationFlow,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  @Get(CALLBACK_PATH.slice(1))
  public async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    // The public URL of this request: openid-client derives the token request's redirect_uri from it.
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    const url = new URL(`${CALLBACK_PATH}${query}`, this.topology.issuer);
    const state = url.searchParams.get('state') ?? '';
    const pending = await this.logins.takeLogin(state);
    if (!pending) {
      return sendErrorPage(
        reply,
        400,
        'Sign-in expired',
        'This sign-in link has expired or was already used.',
        'Go back to the application and connect again.',
      );
    }
    if (!isSameBrowser(request, pending.browser)) {
      return sendErrorPage(
        reply,
        400,
        'Sign-in not recognised',
        'This sign-in was started in another browser (or its cookie was blocked).',
        'Go back to the application and connect again from this browser.',
      );
    }
    const upstreamError = url.searchParams.get('error');
    if (upstreamError) {
      this.logger.warn({ error: upstreamError, client: pending.request.clientId }, 'the upstream login was refused');
      const error =
        upstreamError === 'access_denied'
          ? new OAuthError('access_denied', 'sign-in was cancelled or refused at the identity provider')
          : new OAuthError('server_error', `the identity provider answered ${upstreamError.slice(0, 60)}`);
      return this.flow.redirectError(reply, pending.request, error);
    }
    let user;
    try {
      user = await this.provider.complete(url, state, pending.upstream ?? {});
    } catch (error) {
      // Whatever failed upstream (refused exchange, network, bad answer), the user goes back to the client.
      this.logger.error({ err: error, client: pending.request.clientId }, 'the upstream login failed');
      return this.flow.redirectError(
        reply,
        pending.request,
        new OAuthError('server_error', 'signing in with the identity provider failed'),
      );
    }
    return await this.flow.signedIn(reply, pending.request, pending.browser, user, 302);
  }
}
