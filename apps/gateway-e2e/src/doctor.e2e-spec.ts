// `npm run doctor` against the gateway as `npm start` runs it (every check passes), then against broken setups
// put in front of the same gateway, each of which the doctor must name: a wrong PUBLIC_URL, CORS stripped by a
// proxy, a proxy that buffers responses, /verify routed publicly and a server clock ten minutes ahead.
// Everything listens on loopback: the broken fronts on 127.0.0.2-5 at the edge's port, and the doctor's
// --resolve sends `localhost` (PUBLIC_URL's host) to the front under test.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, WORKSPACE_ROOT } from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';

const DOCTOR = join(WORKSPACE_ROOT, 'dist/tools/doctor/src/main.js');
const TOKEN = join(WORKSPACE_ROOT, 'dist/tools/doctor/src/token.js');
/** The text reports, kept for the operations notes (tmp/ is not committed). */
const REPORTS = join(WORKSPACE_ROOT, 'tmp/doctor-reports');

interface Finding {
  id: string;
  subject: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  detail: string;
  fix?: string;
}

let gateway: RunningGateway;
let port = 0;
let stateful = '';
let stateless = '';
const fronts: ChildProcess[] = [];
let skewProxy: Server | undefined;
let caddyDir = '';

/** Runs the doctor; resolves with its exit code, the JSON report, and writes the text report for the notes. */
async function doctor(name: string, args: string[]): Promise<{ code: number; failed: Finding[]; checks: Finding[] }> {
  const run = (extra: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [DOCTOR, ...args, ...extra], { timeout: 120_000 }, (error, stdout) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });
  const [json, text] = await Promise.all([run(['--json']), run([])]);
  mkdirSync(REPORTS, { recursive: true });
  writeFileSync(
    join(REPORTS, `${name}.txt`),
    `$ npm run doctor -- ${args.join(' ')}\n${text.stdout}exit ${text.code}\n`,
  );
  const report = JSON.parse(json.stdout) as { checks: Finding[]; ok: boolean };
  expect(text.code).toBe(json.code);
  return { code: json.code, checks: report.checks, failed: report.checks.filter((check) => check.status === 'fail') };
}

/** One Caddy listening on `address`:port for http://localhost:port, with the given directives. */
async function caddyFront(address: string, directives: string, site = `http://localhost:${port}`): Promise<void> {
  const file = join(caddyDir, `Caddyfile-${address}`);
  writeFileSync(
    file,
    `{
  admin off
  auto_https off
}
${site} {
  bind ${address}
${directives}
}
`,
  );
  const caddy = spawn('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], {
    stdio: 'ignore',
    env: { ...process.env, HOME: caddyDir, XDG_DATA_HOME: caddyDir, XDG_CONFIG_HOME: caddyDir },
  });
  fronts.push(caddy);
  const deadline = Date.now() + 20_000;
  while (
    !(await fetch(`http://${address}:${port}/`, { headers: { host: new URL(site).host } }).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline || caddy.exitCode !== null) throw new Error(`caddy on ${address} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  port = await freePort();
  gateway = await startGateway(
    {
      PUBLIC_URL: `http://localhost:${port}`,
      // Every doctor run probes /register and every --login dev registers a client: ~30 in this file, above the
      // default 20 per hour from one address.
      REGISTRATION_RATE_LIMIT: '0',
      ...enableOnly('echo-stateful', 'echo-stateless'),
    },
    { edgePort: port },
  );
  stateful = `http://localhost:${port}/echo-stateful/mcp`;
  stateless = `http://localhost:${port}/echo-stateless/mcp`;
  caddyDir = mkdtempSync(join(tmpdir(), 'doctor-caddy-'));
  const edge = `127.0.0.1:${port}`;
  // CORS removed: a proxy that strips every CORS response header.
  await caddyFront(
    '127.0.0.2',
    `  reverse_proxy ${edge} {
    header_down -Access-Control-Allow-Origin
    header_down -Access-Control-Allow-Headers
    header_down -Access-Control-Allow-Methods
    header_down -Access-Control-Expose-Headers
  }`,
  );
  // A buffering proxy: Caddy holds up to 1 MiB of every response before sending it on (Debian's Caddy 2.6
  // spells it buffer_responses + max_buffer_size; Caddy 2.7+ calls it response_buffers).
  await caddyFront('127.0.0.3', `  reverse_proxy ${edge} {\n    buffer_responses\n    max_buffer_size 1048576\n  }`);
  // /verify routed publicly, straight to auth.
  await caddyFront(
    '127.0.0.4',
    `  handle /verify* {\n    reverse_proxy ${new URL(gateway.authUrl).host}\n  }\n  handle {\n    reverse_proxy ${edge}\n  }`,
  );
  // A proxy in front of a gateway whose PUBLIC_URL is not the address clients use: clients reach 127.0.0.6, the
  // proxy passes Host localhost:PORT on, so the gateway answers and announces http://localhost:PORT.
  await caddyFront(
    '127.0.0.6',
    `  reverse_proxy ${edge} {\n    header_up Host localhost:${port}\n  }`,
    `http://127.0.0.6:${port}`,
  );
  // A server clock ten minutes ahead: a tiny proxy that rewrites Date on every response.
  skewProxy = createServer((incoming, outgoing) => {
    const upstream = request(
      { host: '127.0.0.1', port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        const headers = { ...answer.headers, date: new Date(Date.now() + 600_000).toUTCString() };
        outgoing.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => skewProxy?.listen(port, '127.0.0.5', resolve));
}, 240_000);

afterAll(async () => {
  await Promise.all(
    fronts.map(
      (front) =>
        new Promise((resolve) => {
          if (front.exitCode !== null) return resolve(undefined);
          front.once('exit', resolve);
          front.kill('SIGTERM');
        }),
    ),
  );
  skewProxy?.closeAllConnections();
  await new Promise((resolve) => (skewProxy ? skewProxy.close(resolve) : resolve(undefined)));
  await gateway?.stop();
  if (caddyDir) rmSync(caddyDir, { recursive: true, force: true });
});

const ids = (findings: Finding[]) => [...new Set(findings.map((finding) => finding.id))].sort();

describe('npm run doctor', () => {
  it('passes every check against the gateway as npm start runs it, through tools/list with the dev login', async () => {
    const { code, failed, checks } = await doctor('healthy', [
      stateful,
      stateless,
      '--login',
      'dev',
      '--resolve',
      'localhost=127.0.0.1',
    ]);
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    const passed = checks.filter((check) => check.status === 'pass').map((check) => `${check.id} ${check.subject}`);
    for (const id of ['challenge', 'resource-metadata', 'as-metadata', 'pkce', 'verify-private', 'clock', 'tools-list'])
      expect(passed.some((line) => line.startsWith(`${id} `))).toBe(true);
    expect(passed).toContain(`event-stream MCP service ${stateful}`);
    // The edge states the services' Origin policy: the Inspector's loopback origin passes in development, a page on
    // claude.ai is not an allowed origin (a WARN naming MCP_ALLOWED_ORIGINS, not a failure).
    const cors = (id: string) => [...new Set(checks.filter((check) => check.id === id).map((check) => check.status))];
    expect([cors('cors localhost:6274'), cors('cors claude.ai')]).toEqual([['pass'], ['warn']]);
  });

  it('starts from the issuer alone and checks the service its root metadata announces', async () => {
    const { code, checks } = await doctor('issuer', [`http://localhost:${port}`, '--resolve', 'localhost=127.0.0.1']);
    expect(code).toBe(0);
    expect(checks.some((check) => check.subject === `authorization server http://localhost:${port}`)).toBe(true);
    expect(checks.some((check) => check.id === 'challenge' && check.status === 'pass')).toBe(true);
  });

  it('names a wrong PUBLIC_URL (nothing is served at the address clients use)', async () => {
    const { code, failed } = await doctor('wrong-public-url', [`http://127.0.0.1:${port}/echo-stateful/mcp`]);
    expect(code).toBe(1);
    expect(ids(failed)).toEqual(['challenge']);
    expect(failed[0]?.fix).toMatch(/PUBLIC_URL/);
  });

  it('names a wrong PUBLIC_URL behind a proxy (the gateway answers, but announces another address)', async () => {
    const { code, failed } = await doctor('wrong-public-url-behind-proxy', [
      `http://127.0.0.6:${port}/echo-stateful/mcp`,
    ]);
    expect(code).toBe(1);
    expect(ids(failed)).toEqual(expect.arrayContaining(['challenge', 'resource-metadata']));
    for (const finding of failed.filter((each) => ['challenge', 'resource-metadata'].includes(each.id)))
      expect(finding.fix).toMatch(/PUBLIC_URL/);
  });

  it('names CORS removed by a proxy', async () => {
    const { code, failed } = await doctor('cors-removed', [stateful, '--resolve', 'localhost=127.0.0.2']);
    expect(code).toBe(1);
    expect(ids(failed).every((id) => id.startsWith('cors'))).toBe(true);
    expect(ids(failed)).toEqual(expect.arrayContaining(['cors claude.ai', 'cors localhost:6274', 'cors-expose']));
  });

  it('names a proxy that buffers event streams', async () => {
    const { code, failed } = await doctor('buffering-proxy', [
      stateful,
      '--login',
      'dev',
      '--resolve',
      'localhost=127.0.0.3',
    ]);
    expect(code).toBe(1);
    expect(ids(failed)).toEqual(['event-stream']);
    expect(failed[0]?.fix).toMatch(/buffer/);
  });

  it('names /verify routed publicly', async () => {
    const { code, failed } = await doctor('verify-public', [stateful, '--resolve', 'localhost=127.0.0.4']);
    expect(code).toBe(1);
    expect(ids(failed)).toEqual(['verify-private']);
  });

  it('names a server clock ten minutes ahead', async () => {
    const { code, failed } = await doctor('clock-skew', [stateful, '--resolve', 'localhost=127.0.0.5']);
    expect(code).toBe(1);
    expect(ids(failed)).toEqual(['clock']);
    expect(failed[0]?.detail).toMatch(/ahead/);
  });

  it('exits 2 with the usage on a bad argument', async () => {
    const result = await new Promise<number>((resolve) =>
      execFile(process.execPath, [DOCTOR, 'not a url'], (error) =>
        resolve(Number((error as { code?: number })?.code ?? 0)),
      ),
    );
    expect(result).toBe(2);
  });
});

/**
 * The BROWSER of the token helper: Debian's Chromium (playwright-core) signs in at the dev login as a person would,
 * allows on the consent page and lands on the helper's loopback callback. It resolves only localhost (to the edge).
 */
const BROWSER_HOOK = `import { chromium } from ${JSON.stringify(join(WORKSPACE_ROOT, 'node_modules/playwright-core/index.mjs'))};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
try {
  const page = await browser.newPage();
  await page.goto(process.argv[2]);
  await page.fill('input[name="username"]', 'alice');
  await Promise.all([page.waitForURL(/\\/consent\\?/), page.click('form button[type="submit"]')]);
  await Promise.all([
    page.waitForURL(/^http:\\/\\/127\\.0\\.0\\.1:\\d+\\/callback/),
    page.click('button[name="decision"][value="allow"]'),
  ]);
  await page.getByText('Signed in').waitFor();
} finally {
  await browser.close();
}
`;

describe('npm run token', () => {
  const token = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [TOKEN, ...args],
        { timeout: 120_000, env: { ...process.env, ...env } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  it('signs in through the browser with a loopback redirect, prints a working token, snippets and refreshes', async () => {
    const hook = join(caddyDir, 'browser-hook.mjs');
    writeFileSync(hook, BROWSER_HOOK);
    const signedIn = await token([stateless, '--json', '--resolve', 'localhost=127.0.0.1'], {
      BROWSER: `${process.execPath} ${hook}`,
    });
    expect(signedIn.stderr).toContain('Opening the browser');
    expect(signedIn.code).toBe(0);
    const result = JSON.parse(signedIn.stdout) as {
      access_token: string;
      refresh_token: string;
      client_id: string;
      resource: string;
      snippets: Record<string, string>;
    };
    expect(result.resource).toBe(stateless);
    expect(result.snippets['Claude Code']).toBe(
      `claude mcp add --transport http echo-stateless ${stateless} --header "Authorization: Bearer ${result.access_token}"`,
    );
    // The token works where the snippets put it: an MCP request with the header.
    // node:http, so that Host can name the public origin while the packets go to the edge on 127.0.0.1.
    const call = (accessToken: string) =>
      new Promise<{ status: number }>((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
        const outgoing = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/echo-stateless/mcp',
            headers: {
              host: `localhost:${port}`,
              authorization: `Bearer ${accessToken}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-protocol-version': '2025-11-25',
            },
          },
          (answer) => {
            answer.resume();
            answer.on('end', () => resolve({ status: answer.statusCode ?? 0 }));
          },
        );
        outgoing.on('error', reject);
        outgoing.end(body);
      });
    expect((await call(result.access_token)).status).toBe(200);

    const refreshed = await token([
      stateless,
      '--client-id',
      result.client_id,
      '--refresh',
      result.refresh_token,
      '--resolve',
      'localhost=127.0.0.1',
    ]);
    expect(refreshed.code).toBe(0);
    const fresh = /^(ey\S+)$/m.exec(refreshed.stdout)?.[1] ?? '';
    expect(fresh).not.toBe(result.access_token);
    expect((await call(fresh)).status).toBe(200);
    expect(refreshed.stdout).toContain('VS Code (.vscode/mcp.json)');
    expect(refreshed.stdout).toContain('Cursor (~/.cursor/mcp.json)');
  });

  it('fails clearly when the URL is not behind the gateway', async () => {
    const result = await token([`http://127.0.0.1:${port}/no-such-service/mcp`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/answered 404 without a token, not 401/);
  });
});
