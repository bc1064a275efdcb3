import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type DnsStub,
  freePort,
  runUntilExit,
  type ServiceProcess,
  startDnsStub,
  startService,
} from '@gateway/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { HUGE_BYTES, LONG_TEXT, PIXEL_PNG, startTestSite, type TestSite } from './support/test-site';

type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string; data?: string; mimeType?: string }>;
};

const MAX_BYTES = 1024 * 1024;
/** A test CA and a certificate for `tls.test` only, signed by it (test fixtures, valid until 2126). */
const TLS_DIR = join(__dirname, 'support/tls');

async function connect(service: ServiceProcess, userId: string): Promise<Client> {
  const client = new Client({ name: 'fetchs-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
      requestInit: { headers: { 'x-user-id': userId } },
    }),
  );
  return client;
}

async function fetchTool(client: Client, args: Record<string, unknown>): Promise<ToolResult & { text: string }> {
  const result = (await client.callTool({ name: 'fetch', arguments: args })) as ToolResult;
  return { ...result, text: result.content.map((part) => part.text ?? '').join('') };
}

/** Peak resident memory of a process (Linux), in bytes. */
function peakRss(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

describe('fetchs: the fetch tool over MCP', () => {
  let internal: TestSite;
  let site: TestSite;
  let dns: DnsStub;
  let tls: HttpsServer;
  let tlsPort: number;
  let service: ServiceProcess;
  let client: Client;

  beforeAll(async () => {
    internal = await startTestSite(); // an "internal" service fetchs must never reach
    site = await startTestSite(internal.origin); // the allow-listed "public web"
    tls = createHttpsServer(
      { key: readFileSync(join(TLS_DIR, 'tls-test.key')), cert: readFileSync(join(TLS_DIR, 'tls-test.pem')) },
      (_, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('hello over TLS'),
    );
    tls.listen(0, '127.0.0.1');
    await once(tls, 'listening');
    tlsPort = (tls.address() as AddressInfo).port;
    dns = await startDnsStub({
      'private.test': ['10.20.30.40'],
      'loopback.test': ['127.0.0.1'],
      'mixed.test': ['93.184.216.34', '172.16.5.5'],
      'metadata.test': ['169.254.169.254', 'fd00:ec2::254'],
      'allowed.test': ['127.0.0.1'],
      'tls.test': ['127.0.0.1'],
    });
    const port = await freePort();
    service = await startService('fetchs', {
      env: {
        PORT: String(port),
        REDIS_URL: process.env['REDIS_URL'] ?? '',
        STORAGE_PREFIX: `fetchs-e2e-${port}:`,
        FETCH_ALLOW: `127.0.0.1:${site.port},allowed.test:${site.port},tls.test:${tlsPort},127.0.0.1:${tlsPort}`,
        FETCH_DNS_SERVERS: dns.server,
        FETCH_MAX_BYTES: String(MAX_BYTES),
        FETCH_TIMEOUT_MS: '1500',
        FETCH_MAX_REDIRECTS: '3',
        MCP_ALLOWED_ORIGINS: `http://127.0.0.1:${port},http://localhost:${port}`,
        NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.pem'),
      },
    });
    client = await connect(service, 'alice');
  });

  afterAll(async () => {
    await client?.close();
    await service?.stop();
    tls?.close();
    await Promise.all([site?.close(), internal?.close(), dns?.close()]);
  });

  it('lists the fetch tool with its arguments', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['fetch']);
    expect(Object.keys(tools[0]?.inputSchema.properties ?? {}).sort()).toEqual(
      ['body', 'headers', 'max_length', 'method', 'raw', 'start_index', 'url'].sort(),
    );
  });

  // Early in the file, so that the peak RSS before it is not already raised by HTML conversions.
  it('cuts a 200 MB body at FETCH_MAX_BYTES: the download stops early and memory stays bounded', async () => {
    const pid = service.child.pid as number;
    const before = peakRss(pid);
    const result = await fetchTool(client, { url: `${site.origin}/huge`, max_length: 100 });
    expect(result.isError).toBeFalsy();
    expect(result.text).toContain(`cut at FETCH_MAX_BYTES (${MAX_BYTES} bytes)`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = site.hugeBytesSent();
    const growth = peakRss(pid) - before;
    process.stdout.write(
      `[fetchs-e2e] /huge: server sent ${sent} of ${HUGE_BYTES} bytes; fetchs peak RSS grew ${growth} bytes\n`,
    );
    // Reading stops at 1 MB; what else left the server sat in socket buffers (a few MB on loopback).
    expect(sent).toBeLessThan(HUGE_BYTES / 10);
    // Buffering the body would grow the process by at least HUGE_BYTES; GC noise is tens of MB.
    expect(growth).toBeLessThan(HUGE_BYTES / 2);
  });

  it('turns an HTML page into Markdown of its main content', async () => {
    const result = await fetchTool(client, { url: `${site.origin}/article` });
    expect(result.isError).toBeFalsy();
    expect(result.text).toContain('# Tea guide');
    expect(result.text).toContain('## Steps');
    expect(result.text).toContain('**about 80 °C**');
    expect(result.text).toContain(`[more notes](${site.origin}/more)`);
    expect(result.text).not.toMatch(/script-must-not-show|color:red|<p>/);
  });

  it('returns the HTML as received with raw', async () => {
    const result = await fetchTool(client, { url: `${site.origin}/article`, raw: true, max_length: 100_000 });
    expect(result.text).toContain('<article><h1>Brewing green tea</h1>');
  });

  it('pages through a long document with start_index', async () => {
    const pages: string[] = [];
    let startIndex = 0;
    for (;;) {
      const { text, isError } = await fetchTool(client, {
        url: `${site.origin}/long`,
        max_length: 5000,
        start_index: startIndex,
      });
      expect(isError).toBeFalsy();
      const next = /start_index=(\d+)/.exec(text)?.[1];
      pages.push(text.replace(/\n\n<note>[\s\S]*$/, ''));
      if (!next) break;
      startIndex = Number(next);
    }
    expect(pages).toHaveLength(3);
    expect(pages.join('')).toBe(LONG_TEXT);
    const pastEnd = await fetchTool(client, { url: `${site.origin}/long`, start_index: LONG_TEXT.length });
    expect(pastEnd).toMatchObject({
      isError: true,
      text: `start_index ${LONG_TEXT.length} is past the end of the content (${LONG_TEXT.length} characters)`,
    });
  });

  it('returns an image as image content', async () => {
    const result = await fetchTool(client, { url: `${site.origin}/pixel.png` });
    expect(result.content).toEqual([{ type: 'image', mimeType: 'image/png', data: PIXEL_PNG.toString('base64') }]);
  });

  it('follows redirects within the allowed destinations', async () => {
    const result = await fetchTool(client, { url: `${site.origin}/redirect-to-article` });
    expect(result.text).toContain('## Steps');
  });

  it('stops after FETCH_MAX_REDIRECTS', async () => {
    expect(await fetchTool(client, { url: `${site.origin}/redirect-loop` })).toMatchObject({
      isError: true,
      text: 'too many redirects (more than 3)',
    });
  });

  it('honours robots.txt', async () => {
    const result = await fetchTool(client, { url: `${site.origin}/private/page` });
    expect(result).toMatchObject({ isError: true });
    expect(result.text).toMatch(/^refused by robots\.txt: .* disallows \/private\/page/);
    expect(site.requests).not.toContain('GET /private/page');
  });

  it('gives up after FETCH_TIMEOUT_MS', async () => {
    expect(await fetchTool(client, { url: `${site.origin}/never-answers` })).toMatchObject({
      isError: true,
      text: 'timed out after 1500 ms (FETCH_TIMEOUT_MS)',
    });
  });

  it('reaches an allow-listed host name through the DNS it resolved once', async () => {
    const result = await fetchTool(client, { url: `http://allowed.test:${site.port}/long`, max_length: 20 });
    expect(result.text.startsWith('line 0000')).toBe(true);
  });

  it('speaks TLS to the checked address and verifies the certificate against the host name', async () => {
    expect(await fetchTool(client, { url: `https://tls.test:${tlsPort}/` })).toMatchObject({ text: 'hello over TLS' });
    // The same server by IP: the certificate names tls.test only, so verification is really on.
    const byIp = await fetchTool(client, { url: `https://127.0.0.1:${tlsPort}/` });
    expect(byIp).toMatchObject({ isError: true, text: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID') });
  });

  it('refuses credential and hop-by-hop headers', async () => {
    for (const name of ['Authorization', 'Cookie', 'Host', 'Proxy-Authorization', 'Connection']) {
      const result = await fetchTool(client, { url: `${site.origin}/long`, headers: { [name]: 'x' } });
      expect(result).toMatchObject({ isError: true, text: expect.stringContaining(`header "${name}" may not be set`) });
    }
  });

  describe('refuses every internal address class', () => {
    it.each([
      ['loopback, decimal', 'http://2130706433/', /127\.0\.0\.1 is not public \(loopback address/],
      ['loopback, hex', 'http://0x7f.1/', /127\.0\.0\.1 is not public \(loopback address/],
      ['loopback, octal', 'http://0177.0.0.01/', /127\.0\.0\.1 is not public \(loopback address/],
      [
        'loopback, not allow-listed port',
        'http://127.0.0.1:{internal}/',
        /127\.0\.0\.1 is not public \(loopback address/,
      ],
      ['loopback, IPv6', 'http://[::1]/', /::1 is not public \(loopback address/],
      ['loopback, IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]/', /127\.0\.0\.1\) is not public \(loopback address/],
      ['RFC 1918 10/8', 'http://10.0.0.1/', /private network \(RFC 1918\)/],
      ['RFC 1918 172.16/12', 'http://172.16.0.1/', /private network \(RFC 1918\)/],
      ['RFC 1918 192.168/16', 'http://192.168.1.1/', /private network \(RFC 1918\)/],
      ['RFC 1918, IPv4-mapped hex', 'http://[::ffff:c0a8:101]/', /192\.168\.1\.1\) is not public \(private network/],
      ['cloud metadata', 'http://169.254.169.254/latest/meta-data/', /link-local address \(includes cloud metadata/],
      ['cloud metadata, decimal', 'http://2852039166/', /169\.254\.169\.254 is not public \(link-local/],
      ['cloud metadata, IPv6', 'http://[fd00:ec2::254]/', /unique-local IPv6/],
      ['carrier-grade NAT', 'http://100.64.0.1/', /carrier-grade NAT/],
      ['unique-local IPv6', 'http://[fc00::1]/', /unique-local IPv6/],
      ['link-local IPv6', 'http://[fe80::1]/', /link-local address/],
      ['unspecified', 'http://0.0.0.0/', /unspecified address/],
      ['unspecified, short', 'http://0/', /0\.0\.0\.0 is not public \(unspecified address/],
      ['unspecified IPv6', 'http://[::]/', /unspecified address/],
      ['multicast', 'http://224.0.0.1/', /multicast address/],
      ['multicast IPv6', 'http://[ff02::1]/', /multicast address/],
      ['broadcast', 'http://255.255.255.255/', /broadcast address/],
      ['NAT64 of a private address', 'http://[64:ff9b::a00:1]/', /NAT64.*10\.0\.0\.1/],
      ['6to4 of a private address', 'http://[2002:c0a8:101::1]/', /6to4.*192\.168\.1\.1/],
      [
        'a name resolving to a private address',
        'http://private.test/',
        /private\.test \(10\.20\.30\.40\) is not public \(private network/,
      ],
      [
        'a name resolving to loopback',
        'http://loopback.test:{internal}/',
        /loopback\.test \(127\.0\.0\.1\) is not public \(loopback address/,
      ],
      [
        'a name with one public and one private address',
        'http://mixed.test/',
        /mixed\.test \(172\.16\.5\.5\) is not public \(private network/,
      ],
      [
        'a name resolving to cloud metadata',
        'http://metadata.test/',
        /metadata\.test \(169\.254\.169\.254\) is not public \(link-local/,
      ],
      [
        'a redirect from an allowed host to 127.0.0.1',
        '{site}/redirect-to-internal',
        /127\.0\.0\.1 is not public \(loopback address/,
      ],
    ])('%s: %s', async (_, template, reason) => {
      const url = template.replace('{internal}', String(internal.port)).replace('{site}', site.origin);
      const result = await fetchTool(client, { url });
      expect(result.isError).toBe(true);
      expect(result.text).toMatch(/^refused: /);
      expect(result.text).toMatch(reason);
      expect(internal.requests).toEqual([]);
    });

    it.each(['file:///etc/passwd', 'ftp://example.com/', 'gopher://127.0.0.1/'])(
      'refuses the scheme of %s',
      async (url) => {
        expect(await fetchTool(client, { url })).toMatchObject({
          isError: true,
          text: expect.stringMatching(/^refused: scheme/),
        });
      },
    );
  });

  it('writes one audit line per fetch: user, host, status, bytes', async () => {
    await fetchTool(client, { url: `${site.origin}/long`, max_length: 10 });
    const audit = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"context":"FetchAudit"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit).toContainEqual(
      expect.objectContaining({ user: 'alice', host: `127.0.0.1:${site.port}`, status: 200, bytes: LONG_TEXT.length }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ user: 'alice', host: '10.0.0.1', status: 'refused', bytes: 0 }),
    );
  });
});

describe('fetchs: rate limit, robots.txt switch, conversion deadline', () => {
  let site: TestSite;
  let service: ServiceProcess;

  beforeAll(async () => {
    site = await startTestSite();
    service = await startService('fetchs', {
      env: {
        REDIS_URL: process.env['REDIS_URL'] ?? '',
        STORAGE_PREFIX: `fetchs-e2e-limit-${site.port}:`,
        FETCH_ALLOW: `127.0.0.1:${site.port}`,
        FETCH_RATE_LIMIT: '2',
        FETCH_ROBOTS: 'false',
        FETCH_CONVERT_TIMEOUT_MS: '1', // no worker thread starts within 1 ms
      },
    });
  });

  afterAll(async () => {
    await service?.stop();
    await site?.close();
  });

  it('counts fetches per user and refuses beyond FETCH_RATE_LIMIT per minute', async () => {
    const bob = await connect(service, 'bob');
    const carol = await connect(service, 'carol');
    try {
      expect((await fetchTool(bob, { url: `${site.origin}/long`, max_length: 10 })).isError).toBeFalsy();
      expect((await fetchTool(bob, { url: `${site.origin}/long`, max_length: 10 })).isError).toBeFalsy();
      const third = await fetchTool(bob, { url: `${site.origin}/long`, max_length: 10 });
      expect(third).toMatchObject({
        isError: true,
        text: expect.stringMatching(/^rate limit: at most 2 fetches per minute per user .*retry in \d+ s$/),
      });
      expect((await fetchTool(carol, { url: `${site.origin}/long`, max_length: 10 })).isError).toBeFalsy();
    } finally {
      await Promise.all([bob.close(), carol.close()]);
    }
  });

  it('ends an HTML conversion at FETCH_CONVERT_TIMEOUT_MS; raw still answers', async () => {
    const erin = await connect(service, 'erin');
    try {
      expect(await fetchTool(erin, { url: `${site.origin}/article` })).toMatchObject({
        isError: true,
        text: 'converting the HTML took longer than 1 ms (FETCH_CONVERT_TIMEOUT_MS); raw: true returns it unconverted',
      });
      expect((await fetchTool(erin, { url: `${site.origin}/article`, raw: true })).text).toContain('<h2>Steps</h2>');
    } finally {
      await erin.close();
    }
  });

  it('ignores robots.txt with FETCH_ROBOTS=false', async () => {
    const dave = await connect(service, 'dave');
    try {
      expect(await fetchTool(dave, { url: `${site.origin}/private/page` })).toMatchObject({
        text: 'robots.txt keeps crawlers out of here',
      });
      expect(site.requests).not.toContain('GET /robots.txt');
    } finally {
      await dave.close();
    }
  });
});

describe('fetchs: configuration', () => {
  it('refuses to start with a bad FETCH_ALLOW entry, naming it', async () => {
    const { code, output } = await runUntilExit('fetchs', { FETCH_ALLOW: '127.0.0.1:8080,ftp://intranet' });
    expect(code).toBe(1);
    expect(output).toContain(
      'FETCH_ALLOW entry "ftp://intranet": not a host name, IP address or CIDR range (no scheme or path)',
    );
  });
});
