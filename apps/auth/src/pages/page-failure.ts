import type { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { sendErrorPage } from './pages';

/** An HTML endpoint failed unexpectedly (e.g. storage down): log the cause, show a page, never a JSON 500 to a person. */
export function sendFailurePage(reply: FastifyReply, logger: Logger, error: unknown): FastifyReply {
  logger.error({ err: error }, 'sign-in page failed');
  return sendErrorPage(
    reply,
    503,
    'Temporarily unavailable',
    'The sign-in service could not complete your request. Please try again in a moment.',
  );
}
