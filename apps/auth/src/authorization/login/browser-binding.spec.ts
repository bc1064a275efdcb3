import type { FastifyReply, FastifyRequest } from 'fastify';
import { bindBrowser, browserOf, isSameBrowser } from './browser-binding';

type SetCookie = { name: string; value: string; options: Record<string, unknown> };

function exchange(cookies: Record<string, string> = {}): {
  request: FastifyRequest;
  reply: FastifyReply;
  set: SetCookie[];
} {
  const set: SetCookie[] = [];
  const reply = {
    setCookie: (name: string, value: string, options: Record<string, unknown>) => set.push({ name, value, options }),
  } as unknown as FastifyReply;
  return { request: { cookies } as unknown as FastifyRequest, reply, set };
}

describe('browser binding (docs/security.md S38)', () => {
  it('uses a __Host- cookie under HTTPS: Secure, Path=/, no Domain', () => {
    const { request, reply, set } = exchange();
    bindBrowser(request, reply, true);
    expect(set).toHaveLength(1);
    expect(set[0]?.name).toBe('__Host-mcp_gw_browser');
    expect(set[0]?.options).toMatchObject({ path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
    expect(set[0]?.options).not.toHaveProperty('domain');
  });

  it('keeps the plain name over plain http (browsers refuse __Host- without Secure)', () => {
    const { request, reply, set } = exchange();
    bindBrowser(request, reply, false);
    expect(set[0]?.name).toBe('mcp_gw_browser');
  });

  it('recognises the browser that started, and refuses a cookie without the prefix planted with the same value', () => {
    const first = exchange();
    const hash = bindBrowser(first.request, first.reply, true);
    const value = first.set[0]?.value as string;
    expect(isSameBrowser(exchange({ '__Host-mcp_gw_browser': value }).request, hash)).toBe(true);
    expect(browserOf(exchange({ '__Host-mcp_gw_browser': value }).request)).toBe(hash);
    const planted = exchange({ mcp_gw_browser: value }).request;
    expect(isSameBrowser(planted, hash)).toBe(false);
    expect(browserOf(planted)).not.toBe(hash);
  });
});
