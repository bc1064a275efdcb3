// Preloaded into the conformance CLI (`node --import`), which has no option for a token: every request to a
// URL under MCP_BEARER_PREFIX gets `Authorization: Bearer $MCP_BEARER` (docs/deployment.md, "gateway-e2e"), whether
// the CLI sends it with fetch or with node:http's `request` (the 2026-07-28 http-header-validation cases).
import http from 'node:http';

const token = process.env.MCP_BEARER;
const prefix = process.env.MCP_BEARER_PREFIX;
const covered = (url) => Boolean(token && prefix && url.startsWith(prefix));

const originalFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!covered(url)) return originalFetch(input, init);
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${token}`);
  return originalFetch(input, { ...init, headers });
};

const originalRequest = http.request;
http.request = (options, ...rest) => {
  if (typeof options !== 'object' || options === null || options instanceof URL)
    return originalRequest(options, ...rest);
  const host = options.hostname ?? options.host ?? 'localhost';
  const url = `http://${host}${options.port ? `:${options.port}` : ''}${options.path ?? '/'}`;
  if (!covered(url)) return originalRequest(options, ...rest);
  return originalRequest({ ...options, headers: { ...options.headers, authorization: `Bearer ${token}` } }, ...rest);
};
