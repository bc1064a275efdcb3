import { validateClientMetadata } from './client-metadata';

const base = { redirect_uris: ['http://localhost:3000/callback'] };

describe('validateClientMetadata', () => {
  it('fills in the documented defaults', () => {
    expect(validateClientMetadata(base)).toEqual({
      redirect_uris: ['http://localhost:3000/callback'],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'mcp offline_access',
    });
  });

  it('keeps the descriptive metadata and ignores what it does not understand', () => {
    const result = validateClientMetadata({
      ...base,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      scope: 'mcp',
      client_name: 'Inspector',
      client_uri: 'https://inspector.example',
      logo_uri: 'https://inspector.example/logo.png',
      contacts: ['ops@example.com'],
      software_id: 'mcp-inspector',
      software_version: '1.0',
      application_type: 'native',
      jwks_uri: 'https://inspector.example/jwks',
      favourite_colour: 'blue',
    });
    expect(result).toMatchObject({
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      scope: 'mcp',
      client_name: 'Inspector',
      contacts: ['ops@example.com'],
      application_type: 'native',
    });
    expect(result).not.toHaveProperty('jwks_uri');
    expect(result).not.toHaveProperty('favourite_colour');
  });

  it.each([
    ['a non-object body', ['x']],
    ['missing redirect_uris', {}],
    ['redirect_uris as a string', { redirect_uris: 'https://a.example/cb' }],
    ['empty redirect_uris', { redirect_uris: [] }],
    ['an unknown auth method', { ...base, token_endpoint_auth_method: 'private_key_jwt' }],
    ['an unsupported grant type', { ...base, grant_types: ['client_credentials'] }],
    ['grant types without authorization_code', { ...base, grant_types: ['refresh_token'] }],
    ['an unsupported response type', { ...base, response_types: ['token'] }],
    ['a malformed scope', { ...base, scope: 'mcp "x' }],
    ['a scope that is not a string', { ...base, scope: ['mcp'] }],
    ['a javascript: client_uri', { ...base, client_uri: 'javascript:alert(1)' }],
    ['a number as client_name', { ...base, client_name: 7 }],
    ['contacts as a string', { ...base, contacts: 'ops@example.com' }],
  ])('refuses %s as invalid_client_metadata', (_name, body) => {
    expect(() => validateClientMetadata(body)).toThrow(expect.objectContaining({ code: 'invalid_client_metadata' }));
  });

  it('refuses a registration when any one redirect URI is bad', () => {
    expect(() => validateClientMetadata({ redirect_uris: ['https://ok.example/cb', 'javascript:alert(1)'] })).toThrow(
      expect.objectContaining({ code: 'invalid_redirect_uri' }),
    );
  });

  it.each([
    ['openid profile email', 'mcp'],
    ['claudeai', 'mcp'],
    ['read write offline_access', 'mcp offline_access'],
    ['', 'mcp'],
    ['offline_access', 'mcp offline_access'],
  ])('registers %j as %j (unknown scopes dropped, base scope kept; RFC 7591 §3.2.1)', (scope, registered) => {
    expect(validateClientMetadata({ ...base, scope }).scope).toBe(registered);
  });
});
