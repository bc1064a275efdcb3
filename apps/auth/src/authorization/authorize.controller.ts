import { Controller, Get, Inject, Logger, Req, Res, UseFilters } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { OAuthError } from '@gateway/oauth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientDirectory } from '../clients/client-directory';
import { ClientDocumentUnavailable } from '../clients/client-metadata-documents';
import { PageError } from '../pages/page-exception.filter';
import { bindBrowser, browserOf } from './login/browser-binding';
import { LoginProvider } from './login/login-provider';
import { LoginStateStore, randomToken } from './login/login-state.store';
import { PageExceptionFilter } from '../pages/page-exception.filter';
import { TOPOLOGY } from '../config/topology.provider';
import { AuthorizationFlow } from './authorization-flow.service';
import {
  type AuthorizationRequest,
  AuthorizeRedirectError,
  checkAuthorizationRequest,
  checkClientRedirect,
} from './authorization-request';

type Query = Record<string, string | string[] | undefined>;

/** RFC 6749 §4.1.1 / OAuth 2.1 §4.1.1: the authorization endpoint. */
@UseFilters(PageExceptionFilter)
@Controller()
export class AuthorizeController {
  private readonly logger = new Logger(AuthorizeController.name);

  public constructor(
    private readonly clients: ClientDirectory,
    private readonly logins: LoginStateStore,
    private readonly flow: AuthorizationFlow,
    private readonly provider: LoginProvider,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  @Get('authorize')
  public async authorize(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const query = (request.query ?? {}) as Query;
    const clientId = typeof query['client_id'] === 'string' ? query['client_id'] : '';
    // RFC 6749 §4.1.2.1: a bad client_id or redirect_uri is shown to the user (a PageError), never redirected.
    const { client, target } = checkClientRedirect(await this.findClient(clientId), clientId, query);
    let authorization: AuthorizationRequest;
    try {
      authorization = checkAuthorizationRequest(client, target, query, this.topology).request;
    } catch (error) {
      if (error instanceof AuthorizeRedirectError)
        return this.flow.preLoginError(reply, browserOf(request), clientId, error.target, error.error);
      throw error;
    }
    const browser = bindBrowser(request, reply, this.topology.issuer.startsWith('https:'));
    const state = randomToken();
    let begun: Awaited<ReturnType<LoginProvider['begin']>>;
    try {
      begun = await this.provider.begin(state);
    } catch (error) {
      this.logger.error({ err: error }, 'the upstream login could not start');
      return this.flow.preLoginError(
        reply,
        browserOf(request),
        clientId,
        target,
        new OAuthError('temporarily_unavailable', 'the sign-in provider is unavailable, try again later'),
      );
    }
    await this.logins.saveLogin(
      { request: authorization, browser, ...(begun.upstream ? { upstream: begun.upstream } : {}) },
      state,
    );
    return reply.header('cache-control', 'no-store').redirect(begun.url, 302);
  }

  /** A metadata document that cannot be had is a page naming the application's host, never a crash. */
  private async findClient(clientId: string): ReturnType<ClientDirectory['find']> {
    try {
      return await this.clients.find(clientId);
    } catch (error) {
      if (!(error instanceof ClientDocumentUnavailable)) throw error;
      throw new PageError(
        503,
        'Application unavailable',
        `The sign-in details of the application at ${new URL(clientId).host} could not be loaded. Try again in a moment; if it keeps failing, the application's publisher must fix its client metadata document.`,
      );
    }
  }
}
