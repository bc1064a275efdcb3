import { Inject, Injectable, Logger } from '@nestjs/common';
import { type GatewayTopology, serviceForResource } from '@gateway/catalog';
import type { OAuthError } from '@gateway/oauth';
import type { FastifyReply } from 'fastify';
import { ConsentStore } from './consent/consent.store';
import { LoginStateStore, randomToken } from './login/login-state.store';
import { AccessPolicy } from '../policy/access-policy';
import { AuthorizationCodes } from '../store/authorization-codes';
import { type UserIdentity } from '../store/records';
import { TOPOLOGY } from '../config/topology.provider';
import { type AuthorizationRequest, AuthorizePageError, type ClientRedirect } from './authorization-request';

/** 302 after a GET, 303 after a form POST (RFC 9110 §15.4.4: the client must follow with GET). */
export type RedirectStatus = 302 | 303;

/**
 * What happens once the user is known: the access policy, remembered consent or the consent page,
 * and finally the authorization code. Every ending goes back to the client's redirect URI with
 * `state` and `iss` (RFC 9207), so the user never lands on a dead end (docs/security.md).
 */
@Injectable()
export class AuthorizationFlow {
  private readonly logger = new Logger(AuthorizationFlow.name);

  public constructor(
    private readonly logins: LoginStateStore,
    private readonly consents: ConsentStore,
    private readonly policy: AccessPolicy,
    private readonly codes: AuthorizationCodes,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  /** The user signed in upstream: check the policy, then consent (remembered or asked). */
  public async signedIn(
    reply: FastifyReply,
    request: AuthorizationRequest,
    browser: string,
    user: UserIdentity,
    status: RedirectStatus,
  ): Promise<FastifyReply> {
    const service = serviceForResource(this.topology, request.resource);
    const decision = this.policy.check(user, service);
    if (!decision.allowed) {
      this.logger.warn(
        { user: user.sub, client: request.clientId, reason: decision.reason },
        'access denied by policy',
      );
      return this.redirect(
        reply,
        request,
        { error: 'access_denied', error_description: 'you are not allowed to use this service' },
        status,
      );
    }
    const refused = service ? this.policy.refusedScopes(user, service, request.scope) : [];
    if (refused.length > 0) {
      this.logger.warn({ user: user.sub, client: request.clientId, refused }, 'scope refused by policy');
      // RFC 6749 §4.1.2.1 access_denied: the policy never grants these to this user, so asking again cannot help.
      return this.redirect(
        reply,
        request,
        { error: 'access_denied', error_description: `you may not be granted ${refused.join(' ')}` },
        status,
      );
    }
    if (!request.forceConsent && (await this.consents.isGranted(user, request)))
      return this.issueCode(reply, request, browser, user, status);
    const id = await this.logins.saveConsent({ request, browser, user, csrf: randomToken() });
    return reply.redirect(`/consent?${new URLSearchParams({ request: id }).toString()}`, status);
  }

  /** Consent given: remember it and issue the code. */
  public async allow(
    reply: FastifyReply,
    request: AuthorizationRequest,
    browser: string,
    user: UserIdentity,
  ): Promise<FastifyReply> {
    await this.consents.remember(user, request);
    return this.issueCode(reply, request, browser, user, 303);
  }

  public deny(reply: FastifyReply, request: AuthorizationRequest): FastifyReply {
    return this.redirect(
      reply,
      request,
      { error: 'access_denied', error_description: 'the user denied the request' },
      303,
    );
  }

  /**
   * An error raised by /authorize before the person acted (RFC 9700 §4.11.2): it goes back to the client only
   * when this browser already approved that client and redirect URI; otherwise it is shown as a page, so that
   * a freshly registered client cannot use /authorize to bounce people to any site.
   */
  public async preLoginError(
    reply: FastifyReply,
    browser: string | undefined,
    clientId: string,
    target: ClientRedirect,
    error: OAuthError,
  ): Promise<FastifyReply> {
    if (await this.consents.isRedirectApproved(browser, clientId, target.redirectUri))
      return this.redirectError(reply, target, error);
    throw new AuthorizePageError(
      'The application sent an invalid request',
      `${error.message} (${error.code}). You were not sent back to the application because you have not approved it in this browser yet.`,
    );
  }

  /** RFC 6749 §4.1.2.1 error response (with RFC 9207 `iss`). */
  public redirectError(
    reply: FastifyReply,
    target: ClientRedirect,
    error: OAuthError,
    status: RedirectStatus = 302,
  ): FastifyReply {
    return this.redirect(reply, target, { error: error.code, error_description: error.message }, status);
  }

  private async issueCode(
    reply: FastifyReply,
    request: AuthorizationRequest,
    browser: string,
    user: UserIdentity,
    status: RedirectStatus,
  ): Promise<FastifyReply> {
    await this.consents.approveRedirect(browser, request.clientId, request.redirectUri);
    const code = await this.codes.issue({
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      resource: request.resource,
      scope: request.scope,
      user,
    });
    this.logger.log(
      { user: user.sub, client: request.clientId, resource: request.resource, scope: request.scope },
      'authorization code issued',
    );
    return this.redirect(reply, request, { code }, status);
  }

  /** Adds parameters to the redirect URI, keeping its own query (RFC 6749 §3.1.2), plus `state` and `iss`. */
  private redirect(
    reply: FastifyReply,
    target: ClientRedirect,
    params: Record<string, string>,
    status: RedirectStatus,
  ): FastifyReply {
    const url = new URL(target.redirectUri);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    if (target.state !== undefined) url.searchParams.set('state', target.state);
    url.searchParams.set('iss', target.issuer);
    return reply.header('cache-control', 'no-store').redirect(url.href, status);
  }
}
