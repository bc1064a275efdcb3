import fastifyCookie from '@fastify/cookie';
import { runService } from '@gateway/platform';
import { AuthEnv } from './config/auth.env';
import { BODY_LIMIT_BYTES, CORS_OPTIONS, CORS_ON_ROUTER_ERRORS } from './http/http-policy';
import { sendOAuthError } from './http/oauth-exception.filter';
import { VerifyHandler } from './tokens/verify/verify.handler';

void runService({
  name: 'auth',
  envClass: AuthEnv,
  bodyLimit: BODY_LIMIT_BYTES,
  module: async () => (await import('./app.module')).AppModule,
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
  },
  // Requests Fastify's router rejects skip every hook and filter: same RFC 6749 JSON and CORS headers.
  frameworkErrors: (error, request, reply) => sendOAuthError(error, request, reply.headers(CORS_ON_ROUTER_ERRORS)),
});
