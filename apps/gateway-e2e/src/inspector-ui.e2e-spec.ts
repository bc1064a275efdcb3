// The README's "Connect the MCP Inspector" steps, as a new user follows them, in Debian's Chromium: the real
// Inspector 2.x (exact devDependency, its web UI served locally by its own launcher, as `npx
// @modelcontextprotocol/inspector@2` runs it) against `npm start`'s edge. Add Servers → Add manually →
// streamable-http → URL → Add → connect switch → the gateway's sign-in and consent → Tools → echo → Execute Tool.
// Chromium resolves only loopback names, so the UI's Google Fonts stylesheet is never fetched (the UI works without).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, launchChromium, WORKSPACE_ROOT } from '@gateway/testing';
import type { Browser } from 'playwright-core';
import { enableOnly, type RunningGateway, startGateway } from './support/gateway';

const LAUNCHER = join(WORKSPACE_ROOT, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const SERVICE = 'echo-stateless';
const MESSAGE = 'hello from the Inspector';

let gateway: RunningGateway;
let inspector: ChildProcess;
let inspectorOutput = '';
let inspectorUrl: string;
let home: string;
let browser: Browser;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'inspector-e2e-'));
  const [clientPort, sandboxPort] = [await freePort(), await freePort()];
  [gateway, browser] = await Promise.all([
    startGateway(enableOnly(SERVICE)),
    // Only loopback resolves: nothing the page asks of the internet leaves the machine, not even a DNS question.
    launchChromium(['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1']),
  ]);
  inspector = spawn(process.execPath, [LAUNCHER, '--web'], {
    cwd: home,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: home, // its catalog and stored OAuth state start empty, as for a new user
      CLIENT_PORT: String(clientPort),
      MCP_SANDBOX_PORT: String(sandboxPort),
      MCP_AUTO_OPEN_ENABLED: 'false', // the test's Chromium opens it instead
      MCP_INSPECTOR_SECRET_STORE: 'file', // no OS keyring on a CI machine
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  inspector.stdout?.on('data', (chunk: Buffer) => (inspectorOutput += chunk.toString()));
  inspector.stderr?.on('data', (chunk: Buffer) => (inspectorOutput += chunk.toString()));
  const deadline = Date.now() + 60_000;
  let token: string | undefined;
  while (!(token = /Auth token: ([0-9a-f]+)/.exec(inspectorOutput)?.[1])) {
    if (inspector.exitCode !== null || Date.now() > deadline)
      throw new Error(`the Inspector did not start:\n${inspectorOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  inspectorUrl = `http://localhost:${clientPort}/?MCP_INSPECTOR_API_TOKEN=${token}`;
}, 200_000);

afterAll(async () => {
  await browser?.close();
  if (inspector && inspector.exitCode === null) {
    const exited = new Promise((resolve) => inspector.once('exit', resolve));
    inspector.kill('SIGTERM');
    await exited;
  }
  await gateway?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('the MCP Inspector 2.x UI in Chromium (README steps)', () => {
  it('adds the server, signs in through the gateway on the first try, and calls echo', async () => {
    const mcpUrl = gateway.mcpUrls.get(SERVICE) ?? '';
    const page = await browser.newPage();
    const visited: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(new URL(frame.url()).pathname);
    });
    await page.goto(inspectorUrl);

    // 1. Add Servers → Add manually, transport streamable-http, the URL npm start printed, Add.
    await page.getByRole('button', { name: 'Add Servers' }).click();
    await page.getByRole('menuitem', { name: /Add manually/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/Server ID/).fill('gateway');
    await dialog.getByLabel('Transport').click();
    await page.getByRole('option', { name: 'streamable-http' }).click();
    await dialog.getByLabel(/URL/).fill(mcpUrl);
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    // 2. The connect switch: 401 → discovery → registration → the gateway's sign-in page, then consent.
    const card = page.locator('.mantine-Card-root').filter({ hasText: mcpUrl });
    await card.locator('.mantine-Switch-body').click();
    await page.waitForURL((url) => url.pathname === '/login/dev');
    await page.locator('input[name="username"]').fill('inspector-user');
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL((url) => url.pathname === '/consent');
    expect(await page.locator('body').innerText()).toContain('MCP Inspector');
    await page.locator('button[name="decision"][value="allow"]').click();
    await page.waitForURL((url) => url.origin === new URL(inspectorUrl).origin && url.pathname === '/');
    await page.getByText('Authorization complete').waitFor();

    // 3. Tools → echo, a message, Execute Tool.
    await page.locator('label.mantine-SegmentedControl-label', { hasText: /^Tools$/ }).click();
    await page.getByText('echo', { exact: true }).first().click();
    await page.getByLabel(/^message/).fill(MESSAGE);
    await page.getByRole('button', { name: 'Execute Tool' }).click();
    await page.getByText('Results').waitFor();
    await page.getByText(MESSAGE, { exact: true }).waitFor(); // the tool's answer (the input's value is no text)

    // The sign-in happened in this tab: Inspector → the gateway's login and consent → the Inspector's callback.
    expect(visited).toEqual(expect.arrayContaining(['/login/dev', '/consent', '/oauth/callback']));
  });
});
