import { freePort, type ServiceProcess, startService } from '@gateway/testing';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  registerClient,
} from '@modelcontextprotocol/sdk/client/auth.js';
import * as oauth from 'oauth4webapi';
import { http } from './support/http';

const AS_PATH = '/.well-known/oauth-authorization-server';
const PRM_PATH = '/.well-known/oauth-protected-resource';
const redisEnv = (): Record<string, string> => ({
  REDIS_URL: process.env['REDIS_URL'] ?? '',
  STORAGE_PREFIX: `e2e-discovery-${process.pid}:`,
});

describe('discovery metadata, path routing (one origin)', () => {
  let auth: ServiceProcess;
  beforeAll(async () => {
    auth = await startService('auth', {
      env: { ...redisEnv(), PUBLIC_URL: 'http://gateway.test:8080', MCP_FETCHS_ENABLED: 'false' },
    });
  });
  afterAll(() => auth.stop());

  it('serves RFC 8414 metadata whose issuer is byte-identical to the issuer, with only what the server serves', async () => {
    const res = await http(`${auth.url}${AS_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    // Exactly these members: nothing advertised that is not served (RFC 8414 §2; docs/security.md S16).
    expect(res.json()).toEqual({
      issuer: 'http://gateway.test:8080',
      authorization_endpoint: 'http://gateway.test:8080/authorize',
      token_endpoint: 'http://gateway.test:8080/token',
      registration_endpoint: 'http://gateway.test:8080/register',
      revocation_endpoint: 'http://gateway.test:8080/revoke',
      introspection_endpoint: 'http://gateway.test:8080/introspect',
      jwks_uri: 'http://gateway.test:8080/jwks',
      scopes_supported: ['mcp', 'offline_access'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
      revocation_endpoint_auth_methods_supported: [
        'none',
        'client_secret_post',
        'client_secret_basic',
        'private_key_jwt',
      ],
      revocation_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
      introspection_endpoint_auth_methods_supported: [
        'none',
        'client_secret_post',
        'client_secret_basic',
        'private_key_jwt',
      ],
      introspection_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
  });

  it('advertises no endpoint that answers 404 (metadata lists only what is served)', async () => {
    const metadata = (await http(`${auth.url}${AS_PATH}`)).json<Record<string, string>>();
    const endpoints: [string, string][] = [
      ['GET', metadata['authorization_endpoint'] ?? ''],
      ['POST', metadata['token_endpoint'] ?? ''],
      ['POST', metadata['registration_endpoint'] ?? ''],
      ['POST', metadata['revocation_endpoint'] ?? ''],
      ['POST', metadata['introspection_endpoint'] ?? ''],
      ['GET', metadata['jwks_uri'] ?? ''],
    ];
    const unserved: string[] = [];
    for (const [method, url] of endpoints) {
      const path = new URL(url).pathname;
      const res = await http(`${auth.url}${path}`, {
        method,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      if (res.status === 404 || res.status === 405) unserved.push(`${method} ${path}`);
    }
    expect(unserved).toEqual([]);
  });

  it('serves RFC 9728 metadata at the path-inserted URL of every enabled service', async () => {
    // scopes_supported: the base scope and the service's own (catalog policy, docs/authorization.md).
    const scopes: Record<string, string[]> = {
      'echo-stateless': ['mcp', 'echo-stateless:diagnostics'],
      'echo-stateful': ['mcp', 'echo-stateful:diagnostics'],
      everything: ['mcp'],
    };
    for (const name of ['echo-stateless', 'echo-stateful', 'everything']) {
      const res = await http(`${auth.url}${PRM_PATH}/${name}/mcp`);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        resource: `http://gateway.test:8080/${name}/mcp`,
        authorization_servers: [`http://gateway.test:8080/as/${name}`],
        scopes_supported: scopes[name],
        bearer_methods_supported: ['header'],
        resource_name: expect.any(String),
      });
    }
  });

  it('keeps offline_access out of the protected-resource scopes but lists it for the authorization server', async () => {
    const prm = (await http(`${auth.url}${PRM_PATH}/echo-stateless/mcp`)).json<{ scopes_supported: string[] }>();
    const as = (await http(`${auth.url}${AS_PATH}`)).json<{ scopes_supported: string[] }>();
    expect(prm.scopes_supported).not.toContain('offline_access');
    expect(as.scopes_supported).toContain('offline_access');
  });

  it('answers the root URL for the first enabled service, the only one a shared origin can describe there', async () => {
    const res = await http(`${auth.url}${PRM_PATH}`);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ resource: 'http://gateway.test:8080/echo-stateless/mcp' });
  });

  it('answers 404 in RFC 6749 JSON for a disabled or unknown service', async () => {
    for (const path of [`${PRM_PATH}/fetchs/mcp`, `${PRM_PATH}/nope/mcp`, `${PRM_PATH}/echo-stateless`]) {
      const res = await http(`${auth.url}${path}`);
      expect(res.status).toBe(404);
      expect(res.json()).toMatchObject({ error: 'invalid_request' });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('is accepted by a strict client library (oauth4webapi processDiscoveryResponse, processResourceDiscoveryResponse)', async () => {
    const as = await oauth.processDiscoveryResponse(
      new URL('http://gateway.test:8080'),
      (await http(`${auth.url}${AS_PATH}`)).toResponse(),
    );
    expect(as.issuer).toBe('http://gateway.test:8080');
    const resource = new URL('http://gateway.test:8080/echo-stateful/mcp');
    const prm = await oauth.processResourceDiscoveryResponse(
      resource,
      (await http(`${auth.url}${PRM_PATH}/echo-stateful/mcp`)).toResponse(),
    );
    // RFC 9728 §2 / RFC 8414 §3.1: the service's own authorization server, a path-form issuer.
    expect(prm.authorization_servers).toEqual(['http://gateway.test:8080/as/echo-stateful']);
    const own = await oauth.processDiscoveryResponse(
      new URL('http://gateway.test:8080/as/echo-stateful'),
      (await http(`${auth.url}${AS_PATH}/as/echo-stateful`)).toResponse(),
    );
    expect(own).toMatchObject({
      issuer: 'http://gateway.test:8080/as/echo-stateful',
      authorization_endpoint: 'http://gateway.test:8080/as/echo-stateful/authorize',
      token_endpoint: 'http://gateway.test:8080/as/echo-stateful/token',
      registration_endpoint: 'http://gateway.test:8080/register',
    });
    expect((await http(`${auth.url}${AS_PATH}/as/nope`)).status).toBe(404);
  });

  it('answers CORS preflights and adds CORS headers to documents and errors, exposing WWW-Authenticate', async () => {
    const preflight = await http(`${auth.url}/register`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:6274',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, mcp-protocol-version',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('mcp-protocol-version');

    for (const path of [
      AS_PATH,
      `${PRM_PATH}/echo-stateless/mcp`,
      `${PRM_PATH}/nope/mcp`,
      '/no-such-endpoint',
      '/register/unknown-client',
    ]) {
      const res = await http(`${auth.url}${path}`, { headers: { origin: 'http://localhost:6274' } });
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    }
  });
});

describe('discovery metadata, subdomain routing (Host: NAME.example.com)', () => {
  let auth: ServiceProcess;
  beforeAll(async () => {
    auth = await startService('auth', {
      env: { ...redisEnv(), ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.com' },
    });
  });
  afterAll(() => auth.stop());

  it('serves the protected-resource metadata of the service whose host was asked, at the path-inserted and root URLs', async () => {
    for (const path of [`${PRM_PATH}/mcp`, PRM_PATH]) {
      const res = await http(`${auth.url}${path}`, { headers: { host: 'echo-stateful.example.com' } });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        resource: 'https://echo-stateful.example.com/mcp',
        authorization_servers: ['https://auth.example.com/as/echo-stateful'],
        scopes_supported: ['mcp', 'echo-stateful:diagnostics'],
        bearer_methods_supported: ['header'],
        resource_name: expect.any(String),
      });
    }
    const other = await http(`${auth.url}${PRM_PATH}/mcp`, { headers: { host: 'memory.example.com' } });
    expect(other.json()).toMatchObject({ resource: 'https://memory.example.com/mcp' });
  });

  it('describes no resource on the issuer host or an unknown host', async () => {
    for (const host of ['auth.example.com', 'evil.example.net', 'echo-stateless.example.com.evil.net']) {
      const res = await http(`${auth.url}${PRM_PATH}/mcp`, { headers: { host } });
      expect({ host, status: res.status }).toEqual({ host, status: 404 });
    }
  });

  it('serves the same authorization-server metadata on the issuer and on every MCP origin', async () => {
    const onIssuer = await http(`${auth.url}${AS_PATH}`, { headers: { host: 'auth.example.com' } });
    const onService = await http(`${auth.url}${AS_PATH}`, { headers: { host: 'echo-stateless.example.com' } });
    expect(onIssuer.status).toBe(200);
    expect(onService.text).toBe(onIssuer.text);
    const as = await oauth.processDiscoveryResponse(new URL('https://auth.example.com'), onIssuer.toResponse());
    expect(as.registration_endpoint).toBe('https://auth.example.com/register');
    const prm = await oauth.processResourceDiscoveryResponse(
      new URL('https://echo-stateless.example.com/mcp'),
      (await http(`${auth.url}${PRM_PATH}/mcp`, { headers: { host: 'echo-stateless.example.com' } })).toResponse(),
    );
    expect(prm.authorization_servers).toEqual(['https://auth.example.com/as/echo-stateless']);
    const own = await http(`${auth.url}${AS_PATH}/as/echo-stateless`, {
      headers: { host: 'echo-stateless.example.com' },
    });
    expect(
      await oauth.processDiscoveryResponse(new URL('https://auth.example.com/as/echo-stateless'), own.toResponse()),
    ).toMatchObject({ token_endpoint: 'https://auth.example.com/as/echo-stateless/token' });
  });
});

describe('the MCP TypeScript SDK client discovers and registers (real-client interop)', () => {
  let auth: ServiceProcess;
  let origin: string;
  beforeAll(async () => {
    // PUBLIC_URL is the test server itself, so the SDK follows the advertised URLs to this process.
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    auth = await startService('auth', { env: { ...redisEnv(), PORT: String(port), PUBLIC_URL: origin } });
  });
  afterAll(() => auth.stop());

  it('finds the protected-resource metadata from the MCP URL, then the authorization server, then registers', async () => {
    const serverUrl = `${origin}/echo-stateless/mcp`;
    const prm = await discoverOAuthProtectedResourceMetadata(serverUrl);
    expect(prm.resource).toBe(serverUrl);
    const issuer = prm.authorization_servers?.[0] ?? '';
    expect(issuer).toBe(`${origin}/as/echo-stateless`);
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    expect(metadata?.issuer).toBe(issuer);
    const client = await registerClient(issuer, {
      metadata,
      clientMetadata: {
        redirect_uris: ['http://localhost:6274/oauth/callback'],
        token_endpoint_auth_method: 'none',
        client_name: 'sdk e2e',
        scope: 'mcp',
      },
    });
    expect(client.client_id).toEqual(expect.any(String));
    expect(client.client_secret).toBeUndefined();
  });
});
