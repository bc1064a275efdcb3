import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { sendErrorPage } from './pages';

/** A refusal shown to a person as an HTML page (unknown client, unregistered redirect URI, expired sign-in). */
export class PageError extends Error {
  public constructor(
    public readonly status: 400 | 403 | 404 | 503,
    public readonly title: string,
    message: string,
    public readonly hint?: string,
  ) {
    super(message);
    this.name = 'PageError';
  }
}

/**
 * The one error channel of the HTML endpoints (/authorize, /callback, /login/dev, /consent), as
 * `OAuthExceptionFilter` is for the JSON ones: a `PageError` becomes its page; anything else (e.g. storage
 * down) is logged with its cause and shown as a 503 page, never a JSON 500 to a person. Bound with
 * `@UseFilters(PageExceptionFilter)` on the page controllers, which takes precedence over the global filter.
 */
@Catch()
export class PageExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  public catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof PageError) {
      sendErrorPage(reply, exception.status, exception.title, exception.message, exception.hint);
      return;
    }
    this.logger.error({ err: exception }, 'sign-in page failed');
    sendErrorPage(
      reply,
      503,
      'Temporarily unavailable',
      'The sign-in service could not complete your request. Please try again in a moment.',
    );
  }
}
