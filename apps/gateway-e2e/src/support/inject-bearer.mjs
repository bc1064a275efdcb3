// Preloaded into the conformance CLI (`node --import`), which has no option for a token: every fetch to a
// URL under MCP_BEARER_PREFIX gets `Authorization: Bearer $MCP_BEARER` (external-test-tools.md §2.4).
const token = process.env.MCP_BEARER;
const prefix = process.env.MCP_BEARER_PREFIX;
const originalFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!token || !prefix || !url.startsWith(prefix)) return originalFetch(input, init);
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${token}`);
  return originalFetch(input, { ...init, headers });
};
