import { Body, Controller, Get, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationFlow } from '../authorization-flow.service';
import { PageExceptionFilter } from '../../pages/page-exception.filter';
import { sendDevLoginPage, sendErrorPage } from '../../pages/pages';
import { isSameBrowser } from './browser-binding';
import { DEV_USERNAME, devIdentity } from './dev.provider';
import { LoginProvider } from './login-provider';
import { type PendingLogin, LoginStateStore } from './login-state.store';

/** The dev login page (DESIGN.md: a form with `username` and a submit button). Only with LOGIN_PROVIDER=dev. */
@UseFilters(PageExceptionFilter)
@Controller('login/dev')
export class DevLoginController {
  public constructor(
    private readonly provider: LoginProvider,
    private readonly logins: LoginStateStore,
    private readonly flow: AuthorizationFlow,
  ) {}

  @Get()
  public async page(
    @Query('state') state: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const problem = this.refusal(request, typeof state === 'string' ? await this.logins.peekLogin(state) : null);
    return problem ? problem(reply) : sendDevLoginPage(reply, state as string);
  }

  @Post()
  public async submit(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const form = (body ?? {}) as Record<string, unknown>;
    const state = typeof form['state'] === 'string' ? form['state'] : '';
    const username = typeof form['username'] === 'string' ? form['username'].trim() : '';
    const problem = this.refusal(request, await this.logins.peekLogin(state));
    if (problem) return problem(reply);
    if (!DEV_USERNAME.test(username))
      return sendDevLoginPage(reply, state, 'A username is 1 to 64 letters, digits, ".", "_", "@" or "-".');
    const pending = await this.logins.takeLogin(state);
    if (!pending) return expired(reply);
    return await this.flow.signedIn(reply, pending.request, pending.browser, devIdentity(username), 303);
  }

  private refusal(
    request: FastifyRequest,
    pending: PendingLogin | null,
  ): ((reply: FastifyReply) => FastifyReply) | undefined {
    if (this.provider.kind !== 'dev')
      return (reply) => sendErrorPage(reply, 404, 'Not found', 'The development login is not enabled on this gateway.');
    if (!pending) return expired;
    if (!isSameBrowser(request, pending.browser)) {
      return (reply) =>
        sendErrorPage(
          reply,
          400,
          'Sign-in not recognised',
          'This sign-in was started in another browser.',
          'Go back to the application and connect again.',
        );
    }
    return undefined;
  }
}

function expired(reply: FastifyReply): FastifyReply {
  return sendErrorPage(
    reply,
    400,
    'Sign-in expired',
    'This sign-in link has expired or was already used.',
    'Go back to the application and connect again.',
  );
}
