// The committed, generated configurations route as designed when the edge reads them.
import { join, resolve } from 'node:path';
import { findRoute, loadDynamicConfig, routingTable } from './routing-table';

const root = resolve(__dirname, '../../../..');
const route = (file: string, host: string, path: string, method = 'GET') =>
  findRoute(routingTable(loadDynamicConfig(join(root, 'deploy/traefik/dynamic', file))), { host, path, method })?.name;

describe('the generated path-mode configuration', () => {
  it.each([
    ['/.well-known/oauth-protected-resource/echo-stateless/mcp', 'GET', 'discovery'],
    ['/.well-known/oauth-authorization-server', 'GET', 'discovery'],
    ['/echo-stateless/mcp', 'OPTIONS', 'mcp-echo-stateless-preflight'],
    ['/.well-known/oauth-protected-resource/echo-stateless/mcp', 'OPTIONS', 'preflight'],
    ['/token', 'OPTIONS', 'preflight'],
    ['/echo-stateless/mcp', 'POST', 'mcp-echo-stateless'],
    ['/echo-stateless/mcp/', 'GET', 'mcp-echo-stateless'],
    ['/echo-stateless', 'GET', 'mcp-echo-stateless'],
    ['/sequential-thinking/mcp', 'DELETE', 'mcp-sequential-thinking'],
    ['/authorize', 'GET', 'auth'],
    ['/register/abc', 'PUT', 'auth'],
    ['/verify', 'GET', undefined],
    ['/healthz', 'GET', undefined],
  ])('%s (%s) → %s', (path, method, router) => {
    expect(route('path.yml', 'localhost', path, method)).toBe(router);
  });

  it('answers nothing for another host', () => {
    expect(route('path.yml', 'evil.example', '/echo-stateless/mcp')).toBeUndefined();
  });
});

describe('the generated subdomain-mode configuration', () => {
  it.each([
    ['fetchs.localhost', '/mcp', 'mcp-fetchs'],
    ['fetchs.localhost', '/', 'mcp-fetchs'],
    ['fetchs.localhost', '/.well-known/oauth-protected-resource/mcp', 'fetchs-discovery'],
    ['auth.localhost', '/token', 'auth'],
    ['auth.localhost', '/verify', undefined],
  ])('%s%s → %s', (host, path, router) => {
    expect(route('subdomain.yml', host, path)).toBe(router);
  });
});
