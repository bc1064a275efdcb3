import { resolveTopology } from '@gateway/catalog';
import type { ClientRecord } from '../store/records';
import {
  AuthorizePageError,
  AuthorizeRedirectError,
  checkAuthorizationRequest,
  checkClientRedirect,
} from './authorization-request';

const topology = resolveTopology({ PUBLIC_URL: 'https://gw.example.com' });
const client = (metadata: Partial<ClientRecord['metadata']> = {}): ClientRecord => ({
  clientId: 'c1',
  registrationTokenHash: 'x',
  issuedAt: 0,
  expiresAt: 0,
  metadata: {
    redirect_uris: ['http://127.0.0.1/cb'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'mcp',
    ...metadata,
  },
});
const ISSUER = 'https://gw.example.com';
const valid = {
  client_id: 'c1',
  redirect_uri: 'http://127.0.0.1:9999/cb',
  response_type: 'code',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
  resource: 'https://GW.example.com/memory/mcp/',
  state: 's',
};

function redirectError(
  query: Record<string, string | string[] | undefined>,
  record = client(),
): { code: string; message: string } {
  try {
    checkAuthorizationRequest(record, { redirectUri: valid.redirect_uri, state: 's', issuer: ISSUER }, query, topology);
  } catch (error) {
    if (error instanceof AuthorizeRedirectError) return { code: error.error.code, message: error.error.message };
    throw error;
  }
  throw new Error('no error');
}

describe('checkClientRedirect', () => {
  it('refuses unknown clients, unregistered and repeated redirect URIs with a page', () => {
    expect(() => checkClientRedirect(undefined, 'nope', valid, ISSUER)).toThrow(AuthorizePageError);
    expect(() =>
      checkClientRedirect(client(), 'c1', { ...valid, redirect_uri: 'http://127.0.0.1:9999/cb/x' }, ISSUER),
    ).toThrow(AuthorizePageError);
    expect(() =>
      checkClientRedirect(
        client(),
        'c1',
        { ...valid, redirect_uri: ['http://127.0.0.1/cb', 'http://127.0.0.1/cb'] },
        ISSUER,
      ),
    ).toThrow(AuthorizePageError);
  });

  it('accepts a loopback URI on another port and defaults to the only registered URI', () => {
    expect(checkClientRedirect(client(), 'c1', valid, ISSUER).target).toEqual({
      redirectUri: 'http://127.0.0.1:9999/cb',
      state: 's',
      issuer: ISSUER,
    });
    expect(checkClientRedirect(client(), 'c1', { client_id: 'c1' }, ISSUER).target).toEqual({
      redirectUri: 'http://127.0.0.1/cb',
      issuer: ISSUER,
    });
    expect(() =>
      checkClientRedirect(
        client({ redirect_uris: ['http://127.0.0.1/a', 'http://127.0.0.1/b'] }),
        'c1',
        {
          client_id: 'c1',
        },
        ISSUER,
      ),
    ).toThrow(AuthorizePageError);
  });
});

describe('checkAuthorizationRequest', () => {
  it('returns the request bound to the canonical resource and the default scope', () => {
    const { request, service } = checkAuthorizationRequest(
      client({ scope: 'mcp offline_access' }),
      { redirectUri: valid.redirect_uri, state: 's', issuer: ISSUER },
      valid,
      topology,
    );
    expect(service.name).toBe('memory');
    expect(request).toEqual({
      clientId: 'c1',
      redirectUri: valid.redirect_uri,
      state: 's',
      codeChallenge: valid.code_challenge,
      resource: 'https://gw.example.com/memory/mcp',
      scope: 'mcp memory:read offline_access',
      forceConsent: false,
      issuer: ISSUER,
    });
  });

  it.each([
    [{ code_challenge: undefined }, 'invalid_request'],
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ code_challenge_method: undefined }, 'invalid_request'],
    [{ code_challenge: 'short' }, 'invalid_request'],
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ response_type: undefined }, 'invalid_request'],
    [{ resource: 'https://gw.example.com/nope/mcp' }, 'invalid_target'],
    [{ resource: 'https://gw.example.com/memory/mcp?x=1' }, 'invalid_target'],
    [{ resource: undefined }, 'invalid_target'],
    [{ scope: 'mcp "x' }, 'invalid_scope'],
    [{ state: ['a', 'b'] }, 'invalid_request'],
  ])('%j → %s', (overrides, code) => {
    expect(redirectError({ ...valid, ...overrides }).code).toBe(code);
  });

  const granted = (scope: string | undefined, record = client()): string =>
    checkAuthorizationRequest(
      record,
      { redirectUri: valid.redirect_uri, issuer: ISSUER },
      { ...valid, scope },
      topology,
    ).request.scope;

  it.each([
    ['openid profile email', 'mcp'],
    ['claudeai', 'mcp'],
    ['read write', 'mcp'],
    ['offline_access', 'mcp'],
    [undefined, 'mcp memory:read'],
  ])('grants %j as %j to a client without the refresh grant (RFC 6749 §3.3)', (scope, expected) => {
    expect(granted(scope)).toBe(expected);
  });

  it('grants offline_access to a client with the refresh grant even when it registered only mcp', () => {
    const refreshing = client({ scope: 'mcp', grant_types: ['authorization_code', 'refresh_token'] });
    expect(granted('mcp offline_access', refreshing)).toBe('mcp offline_access');
    expect(granted('offline_access', refreshing)).toBe('mcp offline_access');
    expect(granted('openid email profile offline_access', refreshing)).toBe('mcp offline_access');
  });

  it("keeps the target service's scopes whatever the client registered, and drops another service's", () => {
    expect(granted('memory:read memory:write filesystem:write', client({ scope: 'mcp' }))).toBe(
      'mcp memory:read memory:write',
    );
  });

  it('honours prompt=consent', () => {
    expect(
      checkAuthorizationRequest(
        client(),
        { redirectUri: valid.redirect_uri, issuer: ISSUER },
        { ...valid, prompt: 'login consent' },
        topology,
      ).request.forceConsent,
    ).toBe(true);
  });

  describe("at a service's own authorization server (docs/auth.md)", () => {
    const memory = topology.enabled.find((service) => service.name === 'memory');
    const fetchs = topology.enabled.find((service) => service.name === 'fetchs');
    const target = { redirectUri: valid.redirect_uri, issuer: `${ISSUER}/as/memory` };

    it('defaults resource to its service and keeps its issuer for iss', () => {
      const { request } = checkAuthorizationRequest(
        client(),
        target,
        { ...valid, resource: undefined },
        topology,
        memory,
      );
      expect([request.resource, request.issuer]).toEqual(['https://gw.example.com/memory/mcp', `${ISSUER}/as/memory`]);
    });

    it('refuses a resource of another service', () => {
      expect(() => checkAuthorizationRequest(client(), target, valid, topology, fetchs)).toThrow(
        expect.objectContaining({ error: expect.objectContaining({ code: 'invalid_target' }) }),
      );
    });
  });
});
