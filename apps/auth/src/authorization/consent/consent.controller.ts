import { timingSafeEqual } from 'node:crypto';
import { Body, Controller, Get, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { type GatewayTopology, serviceForResource } from '@gateway/catalog';
import { counter } from '@gateway/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationFlow } from '../authorization-flow.service';
import { ClientDirectory } from '../../clients/client-directory';
import { isSameBrowser } from '../login/browser-binding';
import { LoginStateStore, type PendingConsent } from '../login/login-state.store';
import { PageExceptionFilter } from '../../pages/page-exception.filter';
import { type ConsentScope, sendConsentPage, sendErrorPage } from '../../pages/pages';
import { ConsentStore } from './consent.store';
import { TOPOLOGY } from '../../config/topology.provider';

const consents = counter('auth_consents_total', 'consent decisions submitted (allow, deny)', ['decision']);

/**
 * The consent page (MCP authorization "Confused Deputy": the gateway logs everyone in through one
 * upstream client, so each dynamically registered client needs the user's own consent).
 */
@UseFilters(PageExceptionFilter)
@Controller('consent')
export class ConsentController {
  public constructor(
    private readonly logins: LoginStateStore,
    private readonly clients: ClientDirectory,
    private readonly flow: AuthorizationFlow,
    private readonly consents: ConsentStore,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  @Get()
  public async page(
    @Query('request') id: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const pending = typeof id === 'string' ? await this.logins.peekConsent(id) : null;
    if (!pending) return expired(reply);
    if (!isSameBrowser(request, pending.browser)) return otherBrowser(reply);
    const client = await this.clients.find(pending.request.clientId);
    if (!client)
      return sendErrorPage(reply, 400, 'Unknown application', 'The application was deleted while you were signing in.');
    const service = serviceForResource(this.topology, pending.request.resource);
    // Asked again only for what is new (a step-up asks for the added scopes; the rest is shown as already allowed).
    const requested = pending.request.scope.split(' ').filter(Boolean);
    let consented = await this.consents.consentedScopes(pending.user, pending.request);
    // prompt=consent with nothing new: ask for all of it again.
    if (consented.length === requested.length) consented = [];
    const describe = (scope: string): ConsentScope => ({
      scope,
      ...(service?.policy.scopes.has(scope) ? { description: service.policy.scopes.get(scope) as string } : {}),
    });
    return sendConsentPage(reply, {
      requestId: id as string,
      csrf: pending.csrf,
      userLogin: pending.user.login,
      clientId: client.clientId,
      ...(client.metadata.client_name ? { clientName: client.metadata.client_name } : {}),
      ...(client.metadata.client_uri ? { clientUri: client.metadata.client_uri } : {}),
      ...(client.document ? { documentHost: client.document.host } : {}),
      redirectUri: pending.request.redirectUri,
      scopes: requested.filter((scope) => !consented.includes(scope)).map(describe),
      alreadyAllowed: consented.map(describe),
      serviceName: service?.name ?? pending.request.resource,
      resource: pending.request.resource,
    });
  }

  @Post()
  public async decide(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const form = (body ?? {}) as Record<string, unknown>;
    const id = typeof form['request'] === 'string' ? form['request'] : '';
    const pending = await this.logins.peekConsent(id);
    if (!pending) return expired(reply);
    if (!isSameBrowser(request, pending.browser)) return otherBrowser(reply);
    // Synchroniser-token CSRF check (OWASP CSRF cheat sheet), on top of the SameSite=Lax browser cookie.
    if (!sameToken(form['csrf'], pending.csrf)) {
      return sendErrorPage(
        reply,
        403,
        'Request refused',
        'The consent form was not submitted from this page.',
        'Go back to the application and connect again.',
      );
    }
    const decision = form['decision'];
    if (decision !== 'allow' && decision !== 'deny')
      return sendErrorPage(reply, 400, 'No decision', 'Choose Allow or Deny.');
    // Single use: a double submit issues at most one code.
    const taken: PendingConsent | null = await this.logins.takeConsent(id);
    if (!taken) return expired(reply);
    consents.inc({ decision });
    return decision === 'allow'
      ? await this.flow.allow(reply, taken.request, taken.browser, taken.user)
      : this.flow.deny(reply, taken.request);
  }
}

function sameToken(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function expired(reply: FastifyReply): FastifyReply {
  return sendErrorPage(
    reply,
    400,
    'Request expired',
    'This consent request has expired or was already answered.',
    'Go back to the application and connect again.',
  );
}

function otherBrowser(reply: FastifyReply): FastifyReply {
  return sendErrorPage(
    reply,
    400,
    'Request not recognised',
    'This consent request belongs to another browser.',
    'Go back to the application and connect again.',
  );
}
