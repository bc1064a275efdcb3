import '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashSecret, matchesHash } from '../../store/records';
import { randomToken } from './login-state.store';

/**
 * Binds login and consent state to the browser that started them (OAuth 2.0 Security BCP §4.7.1,
 * RFC 6749 §10.12): a random cookie whose hash is stored with the state, so a state or consent link
 * replayed from another browser is refused. SameSite=Lax: the IdP's callback is a top-level GET.
 */
const COOKIE = 'mcp_gw_browser';

/** Hash of this browser's binding cookie; sets the cookie when absent. */
export function bindBrowser(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  let value = request.cookies[COOKIE];
  if (!value || value.length < 32) {
    value = randomToken();
    void reply.setCookie(COOKIE, value, { path: '/', httpOnly: true, sameSite: 'lax', secure });
  }
  return hashSecret(value);
}

/** Hash of this browser's binding cookie, without setting one (undefined for a browser never seen). */
export function browserOf(request: FastifyRequest): string | undefined {
  const value = request.cookies[COOKIE];
  return value && value.length >= 32 ? hashSecret(value) : undefined;
}

export function isSameBrowser(request: FastifyRequest, browserHash: string): boolean {
  const value = request.cookies[COOKIE];
  return Boolean(value) && matchesHash(value as string, browserHash);
}
