import { createServer, type ServerOptions } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import { runService } from '@gateway/platform';
import { AuthEnv } from './config/auth.env';
import { BODY_LIMIT_BYTES, CORS_OPTIONS, CORS_ON_ROUTER_ERRORS } from './http/http-policy';
import { sendOAuthError } from './http/oauth-exception.filter';
import { VerifyHandler } from './tokens/verify/verify.handler';

/** The settings Fastify applies to the HTTP/1.1 server it creates itself (fastify/lib/server.js), defaults filled in. */
interface HttpServerSettings {
  readonly http?: ServerOptions;
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  readonly connectionTimeout?: number;
  readonly maxRequestsPerSocket?: number;
}

/** Set once Nest is up: answers /verify requests that memory alone allows, before Fastify (verify.handler.ts). */
let verifyFromMemory: VerifyHandler | undefined;

void runService({
  name: 'auth',
  envClass: AuthEnv,
  bodyLimit: BODY_LIMIT_BYTES,
  module: async () => (await import('./app.module')).AppModule,
  // Fastify's own HTTP/1.1 server settings (fastify/lib/server.js), with /verify's fast path in front.
  serverFactory: (fastifyHandler, options) => {
    const settings = options as HttpServerSettings;
    const server = createServer(settings.http ?? {}, (request, response) => {
      const url = request.url ?? '';
      const verifyPath = url === '/verify' || url.startsWith('/verify?');
      if (verifyPath && verifyFromMemory?.answerFromMemory(request, response)) return;
      fastifyHandler(request, response);
    });
    if (settings.keepAliveTimeout !== undefined) server.keepAliveTimeout = settings.keepAliveTimeout;
    if (settings.requestTimeout !== undefined) server.requestTimeout = settings.requestTimeout;
    if (settings.connectionTimeout !== undefined) server.setTimeout(settings.connectionTimeout);
    if (settings.maxRequestsPerSocket) server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
    return server;
  },
  // CORS in Nest's onRequest hook, so errors and 404s carry it too (http/http-policy.ts).
  // Cookies only bind a sign-in to its browser (login/browser-binding.ts); registered here, once.
  configure: async (app) => {
    app.enableCors(CORS_OPTIONS);
    await app.register(fastifyCookie);
    // ForwardAuth's hot path, outside Nest's router and middleware (verify/verify.handler.ts).
    const verify = app.get(VerifyHandler);
    app
      .getHttpAdapter()
      .getInstance()
      .all('/verify', (request, reply) => verify.handle(request, reply));
    verifyFromMemory = verify;
  },
  // Requests Fastify's router rejects skip every hook and filter: same RFC 6749 JSON and CORS headers.
  frameworkErrors: (error, request, reply) => sendOAuthError(error, request, reply.headers(CORS_ON_ROUTER_ERRORS)),
});
