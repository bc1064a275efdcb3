// The real `mcp-remote` package (exact version in package.json) against `npm start`'s edge: a stdio MCP client
// (the SDK's) talks to mcp-remote, which discovers, registers, opens the sign-in page through the `open` package
// (xdg-open runs $BROWSER, here support/sign-in-browser.mjs, which signs in and delivers the code to mcp-remote's
// loopback callback), redeems the code and proxies the tool call. Then its stored access token is spoiled, and the
// next start must refresh it without a browser; then, with the tokens gone, it signs in again with the same
// registration. mcp-remote asks `prompt=consent` with every sign-in (its SDK does whenever it requests
// `offline_access`, as OIDC Core §11 tells clients to), so its reconnect is the refresh, and a new sign-in shows
// the consent page, as the client asked.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { freePort, WORKSPACE_ROOT } from '@gateway/testing';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';

const MCP_REMOTE = join(WORKSPACE_ROOT, 'node_modules/mcp-remote/dist/proxy.js');
const BROWSER = join(__dirname, 'support/sign-in-browser.mjs');
const SERVICE = 'echo-stateless';

let gateway: RunningGateway;
let dir: string;
let signInLog: string;
let callbackPort: number;

beforeAll(async () => {
  gateway = await startGateway(enableOnly(SERVICE));
  dir = mkdtempSync(join(tmpdir(), 'mcp-remote-e2e-'));
  signInLog = join(dir, 'sign-in.log');
  callbackPort = await freePort();
}, 200_000);
afterAll(async () => {
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface SignIn {
  /** `client_id`, `scope`, `resource`, `prompt` of the authorization request the hook was handed. */
  readonly asked: Record<string, string | null>;
  readonly forms: string[];
  /** Status of mcp-remote's loopback callback. */
  readonly callback?: number;
  readonly error?: string;
}

/** The sign-ins the BROWSER hook performed so far. */
function signIns(): SignIn[] {
  if (!existsSync(signInLog)) return [];
  return readFileSync(signInLog, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SignIn);
}

/** mcp-remote's stored tokens for this server (MCP_REMOTE_CONFIG_DIR/mcp-remote-<version>/<hash>_tokens.json). */
function tokensFile(): string {
  const [versionDir] = readdirSync(dir).filter((name) => name.startsWith('mcp-remote-'));
  const file = readdirSync(join(dir, versionDir ?? '')).find((name) => name.endsWith('_tokens.json'));
  if (!versionDir || !file) throw new Error(`no stored tokens in ${dir}: ${readdirSync(dir).join(', ')}`);
  return join(dir, versionDir, file);
}

/** Starts mcp-remote as a client's stdio server and calls `echo` through it. */
async function echoThroughMcpRemote(message: string): Promise<string> {
  let stderr = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE, gateway.mcpUrls.get(SERVICE) ?? '', String(callbackPort)],
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: dir,
      MCP_REMOTE_CONFIG_DIR: dir,
      BROWSER,
      SIGN_IN_LOG: signInLog,
      SIGN_IN_USER: 'remote-user',
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'mcp-remote-e2e', version: '1' });
  try {
    await client.connect(transport);
    const result = await client.callTool({ name: 'echo', arguments: { message } });
    const content = result.content as { type: string; text?: string }[];
    return content.map((part) => part.text ?? '').join('');
  } catch (error) {
    throw new Error(`${String(error)}\nmcp-remote said:\n${stderr.slice(-4000)}`);
  } finally {
    await client.close();
  }
}

describe('mcp-remote (the real package)', () => {
  it('signs in on the first try through its BROWSER hook (login, consent) and calls a tool', async () => {
    expect(await echoThroughMcpRemote('first try')).toContain('first try');
    expect(signIns()).toEqual([
      {
        asked: {
          client_id: expect.any(String),
          scope: 'mcp echo-stateless:diagnostics offline_access', // the AS metadata's scopes_supported: no `openid email profile` fallback
          resource: gateway.mcpUrls.get(SERVICE),
          prompt: 'consent',
        },
        forms: ['login', 'consent'],
        callback: 200,
      },
    ]);
    const stored = JSON.parse(readFileSync(tokensFile(), 'utf8')) as Record<string, unknown>;
    expect(stored['refresh_token']).toEqual(expect.any(String));
  });

  it('refreshes a spoiled access token on its next start, without opening the browser', async () => {
    const file = tokensFile();
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...before, access_token: 'spoiled' }));
    expect(await echoThroughMcpRemote('after refresh')).toContain('after refresh');
    const after = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(after['access_token']).not.toBe('spoiled');
    expect(after['refresh_token']).not.toBe(before['refresh_token']); // rotated (docs/auth.md)
    expect(signIns()).toHaveLength(1);
  });

  it('with its tokens gone, signs in again with the same registration (prompt=consent: the consent page)', async () => {
    rmSync(tokensFile());
    expect(await echoThroughMcpRemote('reconnected')).toContain('reconnected');
    const [first, again] = signIns();
    expect(again).toEqual({ ...first, forms: ['login', 'consent'], callback: 200 });
  });
});
