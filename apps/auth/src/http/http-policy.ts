import type { FastifyCorsOptions } from '@fastify/cors';

/**
 * Largest request body auth accepts (Fastify `bodyLimit`, answered 413 `invalid_request`). Every auth
 * request is a small form or JSON document; a registration with ten long redirect URIs is under 30 KiB.
 */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * CORS for browser-based clients (MCP Inspector, web apps): discovery, /register, /token, /revoke,
 * /introspect and /jwks are read cross-origin. Applied to every route and, through Nest's onRequest
 * hook, to errors and 404s too. `*` without credentials is safe here: these endpoints authenticate with
 * the request's own Authorization header or body, never with cookies. WWW-Authenticate and Retry-After
 * are exposed so a browser client can read challenges and rate limits.
 */
export const CORS_OPTIONS: FastifyCorsOptions = {
  origin: '*',
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
  exposedHeaders: ['WWW-Authenticate', 'Retry-After'],
  maxAge: 86_400,
};

/** The CORS headers of a simple response, for errors that bypass the CORS hook (main.ts `frameworkErrors`). */
export const CORS_ON_ROUTER_ERRORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': (CORS_OPTIONS.exposedHeaders as string[]).join(', '),
};
