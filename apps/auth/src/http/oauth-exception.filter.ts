import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The one place OAuth errors become HTTP: RFC 6749 §5.2 JSON (`error`, `error_description`) with
 * `Cache-Control: no-store`. Nest's own HttpExceptions (404 route, 413 body, 415 media type, parse errors)
 * are mapped to `invalid_request` so that a client's mistake is a 4xx that explains itself; anything else
 * is logged with its cause and answered `server_error` without detail.
 */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(OAuthExceptionFilter.name);

  public catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const error = this.toOAuthError(exception, request);
    if (error.status >= 500) this.logger.error({ err: exception, url: request.url }, 'unexpected error');
    else if (error.cause) this.logger.warn({ cause: String(error.cause), url: request.url, error: error.code }, error.message);
    void reply
      .status(error.status)
      .headers({ ...error.headers, 'cache-control': 'no-store', pragma: 'no-cache' })
      .type('application/json')
      .send(error.toJSON());
  }

  private toOAuthError(exception: unknown, request: FastifyRequest): OAuthError {
    if (exception instanceof OAuthError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) return new OAuthError('invalid_request', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`, { status });
      if (status < 500) return new OAuthError('invalid_request', describeHttpException(exception), { status, cause: exception });
    }
    // Fastify's own client errors (body too large, bad JSON, unsupported media type) carry a 4xx statusCode.
    const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return new OAuthError('invalid_request', fastifyClientErrorMessage(exception as Error, statusCode), { status: statusCode, cause: exception });
    }
    return new OAuthError('server_error', 'the server could not complete the request', { cause: exception });
  }
}

function describeHttpException(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
}

function fastifyClientErrorMessage(error: Error, status: number): string {
  if (status === 413) return 'request body too large';
  if (status === 415) return 'unsupported content type';
  if (/JSON/i.test(error.message)) return 'request body is not valid JSON';
  return 'malformed request';
}
