// Subdomain routing through the dev edge: the issuer at auth.localhost, the service at its own host,
// discovery on the service host, everything else of that host behind ForwardAuth.
import type { LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { freePort } from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';
import { connectWithOAuth } from './support/oauth-client';

const SERVICE = 'echo-stateless';

/** `*.localhost` names do not resolve everywhere (glibc without nss-myhostname): connect to 127.0.0.1 for them. */
const lookup: LookupFunction = (_hostname, options, callback) => {
  if (options.all)
    (callback as unknown as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, [
      { address: '127.0.0.1', family: 4 },
    ]);
  else callback(null, '127.0.0.1', 4);
};
const loopback = new Agent({ connect: { lookup } });
const viaLoopback = ((input: string | URL, init?: RequestInit) =>
  undiciFetch(input, { ...(init as object), dispatcher: loopback })) as unknown as typeof fetch;

describe('subdomain routing through the dev edge', () => {
  let gateway: RunningGateway;
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    gateway = await startGateway(
      { ...enableOnly(SERVICE), ROUTING_MODE: 'subdomain', BASE_DOMAIN: `localhost:${port}`, PUBLIC_SCHEME: 'http' },
      { edgePort: port },
    );
  }, 200_000);

  afterAll(async () => {
    await gateway?.stop();
    await loopback.close();
  });

  it('runs the SDK OAuth flow across the service host and the auth host, then calls a tool', async () => {
    const mcpUrl = `http://${SERVICE}.localhost:${port}/mcp`;
    expect(gateway.url).toBe(`http://auth.localhost:${port}`);
    expect(gateway.mcpUrls.get(SERVICE)).toBe(mcpUrl);
    const log: string[] = [];
    const { client } = await connectWithOAuth(mcpUrl, 'bob', log, viaLoopback);
    try {
      expect(log).toEqual(
        expect.arrayContaining([
          `POST ${mcpUrl} → 401`,
          `GET http://${SERVICE}.localhost:${port}/.well-known/oauth-protected-resource/mcp → 200`,
          `GET http://auth.localhost:${port}/.well-known/oauth-authorization-server/as/${SERVICE} → 200`,
          `POST http://auth.localhost:${port}/register → 201`,
          `POST http://auth.localhost:${port}/as/${SERVICE}/token → 200`,
          `POST ${mcpUrl} → 200`,
        ]),
      );
      const result = await client.callTool({ name: 'echo', arguments: { message: 'subdomain' } });
      expect(JSON.stringify(result.content)).toContain('subdomain');
    } finally {
      await client.close();
    }
  });

  it('puts the bare service origin behind ForwardAuth and keeps /verify off every host', async () => {
    const bare = await viaLoopback(`http://${SERVICE}.localhost:${port}/`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toContain('resource_metadata=');
    expect((await viaLoopback(`http://auth.localhost:${port}/verify`)).status).toBe(404);
  });
});
