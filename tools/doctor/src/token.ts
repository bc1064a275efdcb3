#!/usr/bin/env node
/**
 * `npm run token -- <MCP URL>`: an access token for clients without OAuth support. Discovers the gateway from the
 * MCP URL's 401 (RFC 9728), registers a public client for a loopback redirect (RFC 7591, RFC 8252 §7.3), opens the
 * browser for the sign-in (PKCE, RFC 7636), receives the code on 127.0.0.1, redeems it and prints the token with
 * the snippets for Claude Code, VS Code and Cursor. `--refresh <refresh token> --client-id <id>` refreshes instead.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { httpClient, type HttpClient } from './lib/http';
import { nameOf, snippets } from './lib/snippets';
import {
  type AuthorizationServerMetadata,
  authorizationUrl,
  exchangeCode,
  pkcePair,
  refreshTokens,
  registerClient,
  type TokenResponse,
  wellKnownUrl,
} from './lib/oauth';

const USAGE = `usage: npm run token -- <MCP URL> [options]
  --name NAME          the server's name in the snippets (default: from the URL)
  --refresh TOKEN      refresh instead of signing in (needs --client-id, printed by the first run)
  --client-id ID       the client registered by the first run
  --json               print the tokens and snippets as JSON
  --resolve NAME=ADDR  connect to ADDR for host NAME (like curl --resolve)
  --timeout SECONDS    how long to wait for the browser sign-in (default 300)
The browser is the BROWSER environment variable (a command; the URL is appended) or the system's opener.
`;

class UsageError extends Error {}

interface Discovered {
  readonly resource: string;
  readonly metadata: AuthorizationServerMetadata;
  readonly scope: string;
}

/** MCP authorization "Authorization Server Discovery": 401 → protected-resource metadata → AS metadata. */
async function discover(http: HttpClient, mcpUrl: string): Promise<Discovered> {
  const refused = await http.fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  await refused.arrayBuffer();
  const challenge = refused.headers.get('www-authenticate') ?? '';
  if (refused.status !== 401)
    throw new Error(`${mcpUrl} answered ${refused.status} without a token, not 401: is it behind the gateway?`);
  const prmUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? wellKnownUrl(mcpUrl, 'oauth-protected-resource');
  const prm = (await (await http.fetch(prmUrl)).json()) as { resource?: string; authorization_servers?: string[] };
  const issuer = prm.authorization_servers?.[0];
  if (!issuer || !prm.resource) throw new Error(`${prmUrl} names no resource or authorization server`);
  const metadata = (await (
    await http.fetch(wellKnownUrl(issuer, 'oauth-authorization-server'))
  ).json()) as AuthorizationServerMetadata;
  if (metadata.issuer !== issuer) throw new Error(`the metadata's issuer ${metadata.issuer} is not ${issuer}`);
  // The challenge's scope first (MCP authorization "Scope Selection Strategy"), plus refresh when offered.
  const scopes = (/(?:^|[\s,])scope="([^"]*)"/.exec(challenge)?.[1] ?? '').split(' ').filter(Boolean);
  if (metadata.scopes_supported?.includes('offline_access') && !scopes.includes('offline_access'))
    scopes.push('offline_access');
  return { resource: prm.resource, metadata, scope: scopes.join(' ') };
}

/** Opens the URL in the browser: $BROWSER (the URL appended) or the platform's opener. */
function openBrowser(url: string): void {
  const configured = process.env['BROWSER']?.trim();
  const [command, ...args] = configured
    ? [...configured.split(/\s+/), url]
    : process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', url]
        : ['xdg-open', url];
  const child = spawn(command ?? 'xdg-open', args, { stdio: 'ignore', detached: !configured });
  child.on('error', () => undefined);
  if (!configured) child.unref();
}

/** RFC 8252 §7.3: the sign-in comes back to a one-shot listener on 127.0.0.1 at a port the system picks. */
async function signIn(
  http: HttpClient,
  found: Discovered,
  timeoutSeconds: number,
): Promise<{ tokens: TokenResponse; clientId: string }> {
  let settle: (result: { code: string } | { error: string }) => void = () => undefined;
  const result = new Promise<{ code: string } | { error: string }>((resolve) => (settle = resolve));
  const state = randomBytes(16).toString('base64url');
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void response.writeHead(404).end();
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    const ok = code && url.searchParams.get('state') === state;
    response
      .writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8' })
      .end(ok ? '<p>Signed in. You can close this tab.</p>' : '<p>The sign-in did not succeed; see the terminal.</p>');
    settle(
      ok
        ? { code }
        : { error: error ? `${error}: ${url.searchParams.get('error_description') ?? ''}` : 'unexpected state' },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  try {
    const clientId = await registerClient(http, found.metadata, redirectUri, 'MCP gateway token helper');
    const { verifier, challenge } = pkcePair();
    const start = authorizationUrl(found.metadata, {
      clientId,
      redirectUri,
      challenge,
      state,
      scope: found.scope,
      resource: found.resource,
    });
    process.stderr.write(`Opening the browser to sign in. If it does not open, visit:\n  ${start.href}\n`);
    openBrowser(start.href);
    const timer = setTimeout(() => settle({ error: `no sign-in within ${timeoutSeconds} s` }), timeoutSeconds * 1000);
    const outcome = await result;
    clearTimeout(timer);
    if ('error' in outcome) throw new Error(`sign-in failed: ${outcome.error}`);
    const tokens = await exchangeCode(http, found.metadata, {
      clientId,
      redirectUri,
      code: outcome.code,
      verifier,
      resource: found.resource,
    });
    return { tokens, clientId };
  } finally {
    server.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      refresh: { type: 'string' },
      'client-id': { type: 'string' },
      json: { type: 'boolean' },
      resolve: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const mcpUrl = positionals[0];
  if (!mcpUrl || !URL.canParse(mcpUrl)) throw new UsageError('give the MCP URL');
  if (values.refresh && !values['client-id']) throw new UsageError('--refresh needs --client-id');
  const overrides = new Map(
    (values.resolve ?? []).map((pair) => {
      const [name, address] = pair.split('=');
      if (!name || !address) throw new UsageError('--resolve takes NAME=ADDRESS');
      return [name.toLowerCase(), address] as const;
    }),
  );
  const timeout = Number(values.timeout ?? 300);
  if (!Number.isInteger(timeout) || timeout <= 0) throw new UsageError('--timeout takes whole seconds');
  const http = httpClient(overrides);
  try {
    const found = await discover(http, mcpUrl);
    const { tokens, clientId } = values.refresh
      ? {
          tokens: await refreshTokens(http, found.metadata, {
            clientId: values['client-id'] ?? '',
            refreshToken: values.refresh,
            resource: found.resource,
          }),
          clientId: values['client-id'] ?? '',
        }
      : await signIn(http, found, timeout);
    const name = values.name ?? nameOf(found.resource);
    const forClients = snippets(name, found.resource, tokens.access_token);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ resource: found.resource, issuer: found.metadata.issuer, client_id: clientId, ...tokens, snippets: forClients }, null, 2)}\n`,
      );
      return 0;
    }
    const lines = [
      `Access token for ${found.resource} (expires in ${tokens.expires_in ?? '?'} s):`,
      '',
      tokens.access_token,
      '',
    ];
    if (tokens.refresh_token)
      lines.push(
        'When it expires, get a new one without the browser:',
        `  npm run token -- ${mcpUrl} --client-id ${clientId} --refresh ${tokens.refresh_token}`,
        '',
      );
    for (const [client, snippet] of Object.entries(forClients)) lines.push(`${client}:`, snippet, '');
    process.stdout.write(`${lines.join('\n')}`);
    return 0;
  } finally {
    await http.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      error instanceof UsageError ? `${error.message}\n${USAGE}` : `token failed: ${(error as Error).message}\n`,
    );
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
