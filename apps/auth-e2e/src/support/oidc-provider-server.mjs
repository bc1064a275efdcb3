// A real OpenID Connect provider (node-oidc-provider, in memory, dev interactions) for the OIDC login e2e test.
// Run as a child process: it is ESM with many ESM dependencies, which Jest need not transform.
// Usage: node oidc-provider-server.mjs <port> <client_id> <client_secret> <redirect_uri>
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const accounts = {
  alice: { email: 'alice@corp.example', email_verified: true, name: 'Alice Corp', preferred_username: 'alice' },
  bob: { email: 'bob@elsewhere.example', email_verified: true, preferred_username: 'bob' },
  eve: { email: 'eve@corp.example', email_verified: false, preferred_username: 'eve' },
  // A real colleague who chose someone else's address as her username (many IdPs let users pick it).
  mallory: { email: 'mallory@corp.example', email_verified: true, preferred_username: 'alice@corp.example' },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, ...(accounts[id] ?? {}) }) }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
});
provider.listen(Number(port), '127.0.0.1', () => process.stdout.write('oidc-provider ready\n'));
