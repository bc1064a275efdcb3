import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import { StorageUnavailableError } from '@gateway/storage';
import type { FastifyReply, FastifyRequest } from 'fastify';

const logger = new Logger('OAuthExceptionFilter');

/**
 * The one place OAuth errors become HTTP: RFC 6749 §5.2 JSON (`error`, `error_description`) with
 * `Cache-Control: no-store`. Nest's own HttpExceptions (404 route, 413 body, 415 media type, parse errors)
 * are mapped to `invalid_request` so that a client's mistake is a 4xx that explains itself; a storage outage is
 * `temporarily_unavailable` (RFC 6749 §5.2) with 503 and Retry-After (RFC 9110 §15.6.4), logged as a warning;
 * anything else is logged as an unexpected error with its cause and answered `server_error` without detail. Fastify's body-parsing errors
 * reach this filter through Nest's Fastify error handler; router-level rejections (bad URL encoding,
 * over-long parameters) come through `sendOAuthError` from main.ts (`frameworkErrors`).
 */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  public catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendOAuthError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}

/** Serializes any exception as an RFC 6749 error response on `reply`. */
export function sendOAuthError(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const error = toOAuthError(exception, request);
  // Only what nobody meant is "unexpected"; a deliberate refusal (a 4xx, /verify's 503) logs its cause, if any.
  if (error.code === 'server_error') logger.error({ err: exception, url: request.url }, 'unexpected error');
  else if (error.cause)
    logger.warn({ cause: describeCause(error.cause), url: request.url, error: error.code }, error.message);
  void reply
    .status(error.status)
    .headers({ ...error.headers, 'cache-control': 'no-store', pragma: 'no-cache' })
    .type('application/json')
    .send(error.toJSON());
}

/** Seconds a client waits after a storage outage answer (ioredis reconnects within ~2 s). */
const STORAGE_RETRY_AFTER_SECONDS = '1';

function toOAuthError(exception: unknown, request: FastifyRequest): OAuthError {
  if (exception instanceof OAuthError) return exception;
  if (exception instanceof StorageUnavailableError)
    return new OAuthError('temporarily_unavailable', 'the server cannot reach its storage; retry shortly', {
      status: 503,
      headers: { 'retry-after': STORAGE_RETRY_AFTER_SECONDS },
      cause: exception,
    });
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404)
      return new OAuthError('invalid_request', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`, {
        status,
      });
    if (status < 500)
      return new OAuthError('invalid_request', describeHttpException(exception), { status, cause: exception });
  }
  // Fastify's own client errors (body too large, bad JSON, unsupported media type, bad URL) carry a 4xx statusCode.
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new OAuthError(
      'invalid_request',
      fastifyClientErrorMessage(exception as Error & { code?: string }, statusCode),
      { status: statusCode, cause: exception },
    );
  }
  return new OAuthError('server_error', 'the server could not complete the request', { cause: exception });
}

function describeHttpException(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
}

function fastifyClientErrorMessage(error: Error & { code?: string }, status: number): string {
  if (status === 413) return 'request body too large';
  if (status === 414 || error.code === 'FST_ERR_MAX_PARAM_LENGTH') return 'request URL too long';
  if (status === 415) return 'unsupported content type';
  if (error.code === 'FST_ERR_BAD_URL') return 'the request URL is not validly percent-encoded';
  if (/JSON/i.test(error.message)) return 'request body is not valid JSON';
  return 'malformed request';
}

/** A cause for the log: the error and what caused it (a StorageUnavailableError wraps the driver's error). */
function describeCause(cause: unknown): string {
  const inner = cause instanceof Error ? cause.cause : undefined;
  return inner === undefined ? String(cause) : `${String(cause)}: ${String(inner)}`;
}
