import { Controller, Get, Inject, Logger, Param, Req, Res, UseFilters } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { OAuthError } from '@gateway/oauth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientDirectory } from '../clients/client-directory';
import { ClientDocumentUnavailable } from '../clients/client-metadata-documents';
import { bindBrowser, browserOf } from './login/browser-binding';
import { LoginProvider } from './login/login-provider';
import { LoginStateStore, randomToken } from './login/login-state.store';
import { PageError, PageExceptionFilter } from '../pages/page-exception.filter';
import { SERVICE_ISSUER_SEGMENT, serviceIssuer, serviceOfIssuerName } from '../metadata/service-issuer';
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

  /**
   * `/authorize` at the gateway issuer, and `/as/<service>/authorize` at a service's own authorization server
   * (RFC 8414 §3.1 path-form issuer), where `resource` defaults to that service (docs/auth.md).
   */
  @Get(['authorize', `${SERVICE_ISSUER_SEGMENT.slice(1)}/:service/authorize`])
  public async authorize(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('service') name?: string,
  ): Promise<FastifyReply> {
    const scoped = name === undefined ? undefined : serviceOfIssuerName(this.topology, name);
    if (name !== undefined && !scoped)
      throw new PageError(404, 'Unknown server', `This gateway has no MCP server named "${name.slice(0, 60)}".`);
    const issuer = scoped ? serviceIssuer(this.topology, scoped) : this.topology.issuer;
    const query = (request.query ?? {}) as Query;
    const clientId = typeof query['client_id'] === 'string' ? query['client_id'] : '';
    // RFC 6749 §4.1.2.1: a bad client_id or redirect_uri is shown to the user (a PageError), never redirected.
    const { client, target } = checkClientRedirect(await this.findClient(clientId), clientId, query, issuer);
    let authorization: AuthorizationRequest;
    try {
      authorization = checkAuthorizationRequest(client, target, query, this.topology, scoped).request;
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
