import '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashSecret, matchesHash } from '../../store/records';
import { randomToken } from './login-state.store';

/**
 * Binds login and consent state to the browser that started them (OAuth 2.0 Security BCP §4.7.1,
 * RFC 6749 §10.12): a random cookie whose hash is stored with the state, so a state or consent link
 * replayed from another browser is refused. SameSite=Lax: the IdP's callback is a top-level GET.
 * Under HTTPS the cookie is `__Host-` prefixed (RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain), so a sibling
 * subdomain (an MCP service in subdomain routing) cannot plant one; the cookie's name is part of what is hashed,
 * so a planted cookie without the prefix never matches state bound under HTTPS (docs/security.md S38).
 */
const COOKIE = 'mcp_gw_browser';
const HOST_COOKIE = `__Host-${COOKIE}`;

/** Hash of this browser's binding cookie; sets the cookie when absent. */
export function bindBrowser(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const name = secure ? HOST_COOKIE : COOKIE;
  let value = request.cookies[name];
  if (!value || value.length < 32) {
    value = randomToken();
    void reply.setCookie(name, value, { path: '/', httpOnly: true, sameSite: 'lax', secure });
  }
  return hashOf(name, value);
}

/** Hash of this browser's binding cookie, without setting one (undefined for a browser never seen). */
export function browserOf(request: FastifyRequest): string | undefined {
  const [cookie] = cookiesOf(request);
  return cookie === undefined ? undefined : hashSecret(cookie);
}

export function isSameBrowser(request: FastifyRequest, browserHash: string): boolean {
  return cookiesOf(request).some((cookie) => matchesHash(cookie, browserHash));
}

/** `name=value` of the binding cookies this request carries, the `__Host-` one first. */
function cookiesOf(request: FastifyRequest): string[] {
  return [HOST_COOKIE, COOKIE].flatMap((name) => {
    const value = request.cookies[name];
    return value && value.length >= 32 ? [`${name}=${value}`] : [];
  });
}

function hashOf(name: string, value: string): string {
  return hashSecret(`${name}=${value}`);
}
