import { randomBytes } from 'node:crypto';
import { explainNetworkError, type HttpClient } from './http';
import {
  type AuthorizationServerMetadata,
  authorizationUrl,
  exchangeCode,
  pkcePair,
  registerClient,
  signInWithDevLogin,
  wellKnownUrl,
} from './oauth';
import type { Check } from './report';

/** Browser origins whose preflights must pass: Claude.ai and the MCP Inspector (its default port). */
export const BROWSER_ORIGINS = ['https://claude.ai', 'http://localhost:6274'];
/** Request headers an MCP client sends (MCP basic/transports; 2026-07-28 adds Mcp-Method and Mcp-Name). */
const MCP_REQUEST_HEADERS = ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id'];
const NEW_ERA_HEADERS = ['mcp-method', 'mcp-name'];
/** Beyond this the Date header says the server clock is wrong (JWT `iat`/`exp` are checked in seconds). */
const MAX_SKEW_SECONDS = 60;
/**
 * The first bytes of a server-to-client event stream must arrive within this: the MCP SDK sends a keepalive
 * comment every 15 s on an idle stream; a buffering proxy holds it (and every notification) back.
 */
const STREAM_WAIT_MS = 20_000;
/** The redirect URI of the doctor's own sign-in: never dialled, the code is read from the redirect. */
const DOCTOR_REDIRECT = 'http://127.0.0.1:1/doctor-callback';

export interface DoctorOptions {
  /** An issuer or MCP URL first, then more MCP URLs. */
  readonly urls: readonly string[];
  readonly http: HttpClient;
  /** `--login dev`: sign in through the dev login as this user. */
  readonly devUser?: string;
  /** `--token`: an access token (valid for the first MCP URL). */
  readonly token?: string;
  readonly now?: () => number;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'mcp-gateway-doctor', version: '1.0.0' },
  },
};

const isMcpUrl = (url: string) => /\/mcp\/?$/.test(new URL(url).pathname);

/** Every check, in the order a client meets them. */
export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (check: Check) => checks.push(check);
  const [first = '', ...rest] = options.urls;
  const mcpUrls = isMcpUrl(first) ? [first, ...rest] : [...rest];
  let issuer = isMcpUrl(first) ? undefined : first.replace(/\/$/, '');
  let clockChecked = false;

  // An issuer alone: the service its root protected-resource metadata announces.
  if (issuer) {
    const announced = await getJson(options.http, `${new URL(issuer).origin}/.well-known/oauth-protected-resource`);
    const resource = (announced.body as { resource?: unknown } | undefined)?.resource;
    if (typeof resource === 'string' && !mcpUrls.includes(resource)) mcpUrls.push(resource);
  }

  const issuers = new Set<string>();
  const tokens = new Map<string, string>();
  for (const mcpUrl of mcpUrls) {
    const subject = `MCP service ${mcpUrl}`;
    const found = await checkResource(options, mcpUrl, subject, add);
    if (found.date && !clockChecked) {
      clockChecked = true;
      add(clockCheck(found.date, options.now?.() ?? Date.now(), subject));
    }
    if (found.issuer) issuers.add(found.issuer);
    if (found.issuer && !issuer) issuer = found.issuer;
    if (found.issuer && found.scope !== undefined) tokens.set(mcpUrl, `${found.issuer}\n${found.scope}`);
  }
  if (issuer && !issuers.has(issuer)) issuers.add(issuer);

  const metadataByIssuer = new Map<string, AuthorizationServerMetadata>();
  for (const each of issuers) {
    const metadata = await checkAuthorizationServer(options, each, add);
    if (metadata) metadataByIssuer.set(each, metadata);
  }

  const origins = new Set([...mcpUrls, ...issuers].map((url) => new URL(url).origin));
  for (const origin of origins) await checkVerifyPrivate(options, origin, mcpUrls[0] ?? '', add);

  for (const mcpUrl of mcpUrls) {
    const subject = `MCP service ${mcpUrl}`;
    const [issuerOf, scope] = (tokens.get(mcpUrl) ?? '').split('\n');
    const metadata = issuerOf ? metadataByIssuer.get(issuerOf) : undefined;
    let token = mcpUrl === mcpUrls[0] ? options.token : undefined;
    if (!token && options.devUser && metadata) {
      try {
        token = await devLoginToken(options, metadata, mcpUrl, scope ?? '');
        add({ id: 'sign-in', subject, status: 'pass', detail: `dev login as ${options.devUser}: token issued` });
      } catch (error) {
        add({
          id: 'sign-in',
          subject,
          status: 'fail',
          detail: `the dev login flow failed: ${(error as Error).message}`,
          fix: 'check the authorization server checks above; the dev login needs LOGIN_PROVIDER=dev (not in production)',
        });
      }
    }
    if (token) await checkMcpSession(options, mcpUrl, token, subject, add);
    else
      add({
        id: 'tools-list',
        subject,
        status: 'skip',
        detail: 'no token: run with --login dev (dev login) or --token <access token> to go on to tools/list',
      });
  }
  if (!clockChecked)
    add({ id: 'clock', subject: 'gateway', status: 'skip', detail: 'no Date header was received to compare with' });
  return checks;
}

interface ResourceFindings {
  readonly issuer?: string;
  readonly scope?: string;
  readonly date?: string;
}

/** Reachability, the 401 challenge, protected-resource metadata (path-inserted and root), CORS of the MCP URL. */
async function checkResource(
  options: DoctorOptions,
  mcpUrl: string,
  subject: string,
  add: (check: Check) => void,
): Promise<ResourceFindings> {
  const { http } = options;
  const url = new URL(mcpUrl);
  let response: Response;
  try {
    response = await http.fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
  } catch (error) {
    add({
      id: 'reach',
      subject,
      status: 'fail',
      detail: `POST ${mcpUrl}: ${explainNetworkError(error)}`,
      fix:
        url.protocol === 'https:'
          ? 'check DNS for the name, that ports 80/443 are open, and that Traefik got a certificate (its logs name ACME errors)'
          : 'start the gateway (npm start) or correct the URL',
    });
    return {};
  }
  const date = response.headers.get('date') ?? undefined;
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location') ?? '';
    add({
      id: 'reach',
      subject,
      status: 'fail',
      detail: `POST ${mcpUrl} is redirected (${response.status}) to ${location}`,
      fix: `clients do not follow redirects on POST: give them the final URL (${new URL(location, mcpUrl).href}) or remove the redirect`,
    });
    return { ...(date ? { date } : {}) };
  }
  add({
    id: 'reach',
    subject,
    status: url.protocol === 'https:' || isLoopback(url.hostname) ? 'pass' : 'warn',
    detail: `POST answered ${response.status}${url.protocol === 'https:' ? ' over valid TLS' : ''}`,
    ...(url.protocol === 'https:' || isLoopback(url.hostname)
      ? {}
      : { fix: 'serve the gateway over HTTPS: OAuth 2.1 requires TLS everywhere but on loopback' }),
  });

  // The 401 challenge (MCP authorization; RFC 6750 §3, RFC 9728 §5.1).
  const challenge = response.headers.get('www-authenticate') ?? '';
  const resourceMetadata = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
  const scope = /(?:^|[\s,])scope="([^"]*)"/.exec(challenge)?.[1];
  const expectedMetadata = wellKnownUrl(mcpUrl, 'oauth-protected-resource');
  if (response.status === 404) {
    // Nothing else can work at this address: say so once instead of failing every later check.
    add({
      id: 'challenge',
      subject,
      status: 'fail',
      detail: `a request without a token got 404: nothing is routed at ${url.pathname} for the host ${url.host}`,
      fix: `check the URL; if it is right, the gateway is configured for another address: set PUBLIC_URL (path mode) or BASE_DOMAIN and PUBLIC_SCHEME (subdomain mode) so that this service is served at ${mcpUrl} (the edge routes only the public names it was configured with)`,
    });
    add({
      id: 'discovery',
      subject,
      status: 'skip',
      detail: 'metadata and CORS not checked: the MCP URL is not served',
    });
    return { ...(date ? { date } : {}) };
  }
  if (response.status !== 401) {
    add({
      id: 'challenge',
      subject,
      status: 'fail',
      detail: `a request without a token got ${response.status}, not 401`,
      fix: 'every MCP request must pass ForwardAuth (auth /verify) first: check the service router has the forward-auth middleware',
    });
  } else if ((challenge.match(/Bearer/gi) ?? []).length !== 1 || !resourceMetadata) {
    add({
      id: 'challenge',
      subject,
      status: 'fail',
      detail: `401 without one Bearer challenge carrying resource_metadata: "${challenge}"`,
      fix: 'send exactly one WWW-Authenticate: Bearer challenge with resource_metadata (a proxy may be adding its own)',
    });
  } else if (resourceMetadata !== expectedMetadata) {
    add({
      id: 'challenge',
      subject,
      status: 'fail',
      detail: `401 points to ${resourceMetadata}, but a client at this URL expects ${expectedMetadata}`,
      fix: `the gateway believes its public address is ${new URL(resourceMetadata).origin}: set PUBLIC_URL (path mode) or BASE_DOMAIN and PUBLIC_SCHEME (subdomain mode) to the address clients use, ${url.origin}`,
    });
  } else {
    add({ id: 'challenge', subject, status: 'pass', detail: `401 with resource_metadata="${resourceMetadata}"` });
  }

  // Protected-resource metadata at the path-inserted URL (RFC 9728 §3.1) and at the root of the origin.
  let issuer: string | undefined;
  const prm = await getJson(http, expectedMetadata);
  const document = prm.body as { resource?: string; authorization_servers?: string[] } | undefined;
  if (prm.status !== 200 || !document) {
    add({
      id: 'resource-metadata',
      subject,
      status: 'fail',
      detail: `${expectedMetadata} answered ${prm.error ?? prm.status}`,
      fix: 'route /.well-known/oauth-protected-resource/* of every MCP origin to auth (the generated Traefik configuration does)',
    });
  } else if (document.resource !== mcpUrl) {
    add({
      id: 'resource-metadata',
      subject,
      status: 'fail',
      detail: `"resource" is ${document.resource}, not the URL the client connected to (${mcpUrl})`,
      fix: `clients refuse metadata for another resource (RFC 9728 §3.3): set PUBLIC_URL (or BASE_DOMAIN/PUBLIC_SCHEME) so that the service URL is ${mcpUrl}`,
    });
    issuer = document.authorization_servers?.[0];
  } else if (!document.authorization_servers?.length) {
    add({
      id: 'resource-metadata',
      subject,
      status: 'fail',
      detail: 'no authorization_servers',
      fix: 'the metadata must name the issuer',
    });
  } else {
    issuer = document.authorization_servers[0];
    add({
      id: 'resource-metadata',
      subject,
      status: 'pass',
      detail: `resource matches; authorization server ${issuer}`,
    });
  }
  const root = await getJson(http, `${url.origin}/.well-known/oauth-protected-resource`);
  add(
    root.status === 200 && root.body
      ? {
          id: 'resource-metadata-root',
          subject,
          status: 'pass',
          detail: 'root /.well-known/oauth-protected-resource answers',
        }
      : {
          id: 'resource-metadata-root',
          subject,
          status: 'fail',
          detail: `${url.origin}/.well-known/oauth-protected-resource answered ${root.error ?? root.status}`,
          fix: 'older clients ignore resource_metadata and try the root URL: route it to auth too',
        },
  );

  await checkCors(options, mcpUrl, subject, add);
  await checkCors(options, expectedMetadata, subject, add, 'cors-resource-metadata', 'GET');
  return { ...(issuer ? { issuer } : {}), ...(scope !== undefined ? { scope } : {}), ...(date ? { date } : {}) };
}

/** CORS preflights from browser-based clients, and the challenge readable from a browser. */
async function checkCors(
  options: DoctorOptions,
  target: string,
  subject: string,
  add: (check: Check) => void,
  id = 'cors',
  method = 'POST',
): Promise<void> {
  const wanted = method === 'POST' ? [...MCP_REQUEST_HEADERS, ...NEW_ERA_HEADERS] : ['mcp-protocol-version'];
  for (const origin of BROWSER_ORIGINS) {
    const name = `${id} ${new URL(origin).host}`;
    let response: Response;
    try {
      response = await options.http.fetch(target, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': wanted.join(','),
        },
      });
      await response.arrayBuffer();
    } catch (error) {
      add({ id: name, subject, status: 'fail', detail: `preflight: ${explainNetworkError(error)}` });
      continue;
    }
    const allowOrigin = response.headers.get('access-control-allow-origin');
    const allowHeaders = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    const missing =
      allowHeaders.trim() === '*' ? [] : wanted.filter((header) => !allowHeaders.split(/\s*,\s*/).includes(header));
    const fix =
      'answer OPTIONS preflights without a token (they never carry one) with Access-Control-Allow-Origin and the MCP headers: the generated mcp-cors middleware does this; a proxy in front must not strip or answer them';
    if (response.status === 401 || response.status === 403)
      add({ id: name, subject, status: 'fail', detail: `preflight from ${origin} got ${response.status}`, fix });
    else if (response.ok && !allowOrigin && response.headers.get('access-control-allow-methods') && isMcpUrl(target))
      // The edge's CORS for an MCP route states the services' Origin policy: this origin is refused by both.
      add({
        id: name,
        subject,
        status: 'warn',
        detail: `the preflight is answered but ${origin} is not an allowed origin: the MCP service refuses it too (403)`,
        fix: `only if a browser-side client on ${origin} must call this server: add it to MCP_ALLOWED_ORIGINS (the services and the generated edge configuration read it)`,
      });
    else if (response.status >= 300 || !allowOrigin)
      add({
        id: name,
        subject,
        status: 'fail',
        detail: `preflight from ${origin} got ${response.status} without Access-Control-Allow-Origin`,
        fix,
      });
    else if (allowOrigin !== '*' && allowOrigin !== origin)
      add({ id: name, subject, status: 'fail', detail: `Access-Control-Allow-Origin is ${allowOrigin}`, fix });
    else if (missing.length)
      add({
        id: name,
        subject,
        status: 'fail',
        detail: `preflight does not allow the headers ${missing.join(', ')}`,
        fix: `add ${missing.join(', ')} to Access-Control-Allow-Headers`,
      });
    else add({ id: name, subject, status: 'pass', detail: `preflight from ${origin} allowed (${response.status})` });
  }
  if (method !== 'POST') return;
  // A browser client reads the 401's challenge only when CORS exposes it.
  const refused = await options.http
    .fetch(target, {
      method: 'POST',
      headers: {
        origin: BROWSER_ORIGINS[1] ?? '',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify(INITIALIZE),
    })
    .catch(() => undefined);
  await refused?.arrayBuffer().catch(() => undefined);
  const exposed = (refused?.headers.get('access-control-expose-headers') ?? '').toLowerCase();
  add(
    refused && refused.headers.get('access-control-allow-origin') && /www-authenticate|\*/.test(exposed)
      ? { id: `${id}-expose`, subject, status: 'pass', detail: 'the 401 challenge is readable from a browser' }
      : {
          id: `${id}-expose`,
          subject,
          status: 'fail',
          detail: 'the 401 lacks Access-Control-Allow-Origin or does not expose WWW-Authenticate',
          fix: 'browser clients (the Inspector) cannot see the challenge: expose WWW-Authenticate and Mcp-Session-Id with CORS on every response',
        },
  );
}

/** RFC 8414: the issuer's metadata, its exactness, endpoints, PKCE and registration. */
async function checkAuthorizationServer(
  options: DoctorOptions,
  issuer: string,
  add: (check: Check) => void,
): Promise<AuthorizationServerMetadata | undefined> {
  const subject = `authorization server ${issuer}`;
  const url = wellKnownUrl(issuer, 'oauth-authorization-server');
  const found = await getJson(options.http, url);
  const metadata = found.body as AuthorizationServerMetadata | undefined;
  if (found.status !== 200 || !metadata) {
    add({
      id: 'as-metadata',
      subject,
      status: 'fail',
      detail: `${url} answered ${found.error ?? found.status}`,
      fix: 'route /.well-known/oauth-authorization-server of the issuer to auth, and check the issuer URL (PUBLIC_URL)',
    });
    return undefined;
  }
  if (metadata.issuer !== issuer) {
    add({
      id: 'as-metadata',
      subject,
      status: 'fail',
      detail: `"issuer" is ${metadata.issuer}, not ${issuer} (clients compare byte for byte, RFC 8414 §3.3)`,
      fix: 'set PUBLIC_URL (path mode) or BASE_DOMAIN/PUBLIC_SCHEME (subdomain mode) to the public address, with no trailing slash',
    });
  } else add({ id: 'as-metadata', subject, status: 'pass', detail: `issuer matches exactly (${url})` });

  const endpoints: Array<[string, string | undefined, RequestInit]> = [
    ['authorization_endpoint', metadata.authorization_endpoint, { method: 'GET' }],
    [
      'token_endpoint',
      metadata.token_endpoint,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' },
    ],
    [
      'registration_endpoint',
      metadata.registration_endpoint,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    ],
  ];
  const broken: string[] = [];
  for (const [name, endpoint, init] of endpoints) {
    if (!endpoint) {
      if (name !== 'registration_endpoint') broken.push(`${name} missing`);
      continue;
    }
    if (new URL(endpoint).origin !== new URL(issuer).origin) broken.push(`${name} ${endpoint} is on another origin`);
    const answer = await options.http.fetch(endpoint, init).catch((error: unknown) => explainNetworkError(error));
    if (typeof answer === 'string') broken.push(`${name}: ${answer}`);
    else {
      await answer.arrayBuffer().catch(() => undefined);
      // An empty request must be refused as a client mistake (4xx), never 404 or 5xx.
      if (answer.status === 404 || answer.status >= 500) broken.push(`${name} answered ${answer.status}`);
    }
  }
  add(
    broken.length
      ? {
          id: 'as-endpoints',
          subject,
          status: 'fail',
          detail: broken.join('; '),
          fix: "route the issuer's paths (/authorize, /token, /register) to auth; endpoints must be under the issuer's origin (PUBLIC_URL)",
        }
      : { id: 'as-endpoints', subject, status: 'pass', detail: 'authorize, token and registration endpoints answer' },
  );
  add(
    metadata.code_challenge_methods_supported?.includes('S256')
      ? { id: 'pkce', subject, status: 'pass', detail: 'PKCE S256 announced' }
      : {
          id: 'pkce',
          subject,
          status: 'fail',
          detail: 'code_challenge_methods_supported lacks S256',
          fix: 'MCP clients refuse an authorization server without S256 (MCP authorization, OAuth 2.1 §7.5.2)',
        },
  );
  const cimd = metadata.client_id_metadata_document_supported === true;
  const dcr = Boolean(metadata.registration_endpoint);
  add(
    cimd && dcr
      ? { id: 'registration', subject, status: 'pass', detail: 'Client ID Metadata Documents and dynamic registration' }
      : {
          id: 'registration',
          subject,
          status: cimd || dcr ? 'warn' : 'fail',
          detail: cimd
            ? 'CIMD only: Cursor (dynamic registration only) cannot register'
            : dcr
              ? 'dynamic registration only: CIMD clients (Claude.ai, Goose) fall back or fail'
              : 'neither CIMD nor dynamic registration',
          fix: 'offer both client_id_metadata_document_supported and a registration_endpoint',
        },
  );
  await checkCors(options, url, subject, add, 'cors-as-metadata', 'GET');
  return metadata;
}

/** ForwardAuth's /verify must never answer the public: it would let anyone probe tokens and skip the edge. */
async function checkVerifyPrivate(
  options: DoctorOptions,
  origin: string,
  mcpUrl: string,
  add: (check: Check) => void,
): Promise<void> {
  const subject = `origin ${origin}`;
  const target = mcpUrl ? new URL(mcpUrl) : new URL(origin);
  const answer = await options.http
    .fetch(`${origin}/verify`, {
      headers: {
        authorization: 'Bearer doctor-probe',
        'x-forwarded-method': 'POST',
        'x-forwarded-proto': target.protocol.slice(0, -1),
        'x-forwarded-host': target.host,
        'x-forwarded-uri': target.pathname,
      },
    })
    .catch(() => undefined);
  const body = answer ? await answer.text().catch(() => '') : '';
  const fromAuth =
    answer !== undefined &&
    (answer.status === 200 || answer.headers.has('www-authenticate') || /"error"\s*:/.test(body));
  add(
    fromAuth
      ? {
          id: 'verify-private',
          subject,
          status: 'fail',
          detail: `${origin}/verify reaches auth's ForwardAuth endpoint (answered ${answer?.status})`,
          fix: 'remove the public route to /verify: only Traefik (or your proxy) calls it, on the internal network',
        }
      : {
          id: 'verify-private',
          subject,
          status: 'pass',
          detail: `/verify is not routed publicly (${answer ? answer.status : 'no answer'})`,
        },
  );
}

function clockCheck(date: string, now: number, subject: string): Check {
  const skew = Math.round((Date.parse(date) - now) / 1000);
  if (Number.isNaN(skew)) return { id: 'clock', subject, status: 'warn', detail: `unreadable Date header "${date}"` };
  if (Math.abs(skew) <= MAX_SKEW_SECONDS)
    return {
      id: 'clock',
      subject,
      status: 'pass',
      detail: `server clock within ${Math.abs(skew)} s of this machine's`,
    };
  return {
    id: 'clock',
    subject,
    status: 'fail',
    detail: `server clock is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} this machine's (Date: ${date})`,
    fix: "tokens will look expired or not yet valid: synchronise the server clock (NTP, e.g. timedatectl set-ntp true), or this machine's if it is the one that is off",
  };
}

/** `--login dev`: register, sign in at the dev login, redeem the code, as a real client does. */
async function devLoginToken(
  options: DoctorOptions,
  metadata: AuthorizationServerMetadata,
  mcpUrl: string,
  scope: string,
): Promise<string> {
  const clientId = await registerClient(options.http, metadata, DOCTOR_REDIRECT, 'MCP gateway doctor');
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString('base64url');
  const start = authorizationUrl(metadata, {
    clientId,
    redirectUri: DOCTOR_REDIRECT,
    challenge,
    state,
    scope,
    resource: mcpUrl,
  });
  const redirect = await signInWithDevLogin(options.http, start, options.devUser ?? 'doctor', DOCTOR_REDIRECT);
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`no code in the redirect: ${redirect.searchParams.get('error') ?? redirect.search}`);
  if (redirect.searchParams.get('state') !== state) throw new Error('the redirect carries another state');
  const tokens = await exchangeCode(options.http, metadata, {
    clientId,
    redirectUri: DOCTOR_REDIRECT,
    code,
    verifier,
    resource: mcpUrl,
  });
  return tokens.access_token;
}

/** With a token: initialize, tools/list, and an event stream that arrives unbuffered. */
async function checkMcpSession(
  options: DoctorOptions,
  mcpUrl: string,
  token: string,
  subject: string,
  add: (check: Check) => void,
): Promise<void> {
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const initialized = await options.http
    .fetch(mcpUrl, { method: 'POST', headers, body: JSON.stringify(INITIALIZE) })
    .catch((error: unknown) => explainNetworkError(error));
  if (typeof initialized === 'string' || initialized.status !== 200) {
    const status = typeof initialized === 'string' ? initialized : String(initialized.status);
    if (typeof initialized !== 'string') await initialized.arrayBuffer().catch(() => undefined);
    add({
      id: 'initialize',
      subject,
      status: 'fail',
      detail: `initialize with the token answered ${status}`,
      fix:
        status === '401'
          ? 'the token is not accepted here: it may be for another service (audience), expired or revoked'
          : 'see the service logs; a 403 can be the access policy (ALLOWED_*_USERS) or MCP_ALLOWED_ORIGINS',
    });
    return;
  }
  await readMcpBody(initialized);
  const sessionId = initialized.headers.get('mcp-session-id');
  const protocol = { 'mcp-protocol-version': '2025-11-25', ...(sessionId ? { 'mcp-session-id': sessionId } : {}) };
  add({ id: 'initialize', subject, status: 'pass', detail: `initialized${sessionId ? ' (session)' : ' (stateless)'}` });
  await options.http
    .fetch(mcpUrl, {
      method: 'POST',
      headers: { ...headers, ...protocol },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
    .then((response) => response.arrayBuffer())
    .catch(() => undefined);
  const listed = await options.http
    .fetch(mcpUrl, {
      method: 'POST',
      headers: { ...headers, ...protocol },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    })
    .catch(() => undefined);
  const result = listed?.status === 200 ? await readMcpBody(listed) : undefined;
  const tools = (result as { result?: { tools?: Array<{ name: string }> } } | undefined)?.result?.tools;
  add(
    tools
      ? {
          id: 'tools-list',
          subject,
          status: 'pass',
          detail: `${tools.length} tools: ${tools
            .map((tool) => tool.name)
            .slice(0, 6)
            .join(', ')}`,
        }
      : {
          id: 'tools-list',
          subject,
          status: 'fail',
          detail: `tools/list answered ${listed?.status ?? 'nothing'}`,
          fix: 'see the service logs',
        },
  );

  // The server-to-client event stream (GET, MCP basic/transports): its headers come at once from the service;
  // a proxy that buffers responses holds them back, and clients then wait forever for notifications.
  if (!sessionId) {
    add({
      id: 'event-stream',
      subject,
      status: 'skip',
      detail: 'stateless service: no server-to-client stream to test',
    });
    return;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), STREAM_WAIT_MS);
  let stream: Response | undefined;
  let firstBytes = false;
  try {
    stream = await options.http.fetch(mcpUrl, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...protocol },
      signal: controller.signal,
    });
    if (stream.status === 200) firstBytes = !(await stream.body?.getReader().read())?.done;
  } catch {
    // aborted: nothing arrived in time
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (firstBytes) {
    add({
      id: 'event-stream',
      subject,
      status: 'pass',
      detail: 'the event stream delivered its first event unbuffered',
    });
  } else {
    add({
      id: 'event-stream',
      subject,
      status: 'fail',
      detail:
        stream && stream.status !== 200
          ? `GET event stream answered ${stream.status} ${stream.headers.get('content-type') ?? ''}`
          : `nothing arrived on the event stream within ${STREAM_WAIT_MS / 1000} s (the service sends a keepalive every 15 s): a proxy buffers responses`,
      fix: 'turn response buffering off for the MCP paths: nginx "proxy_buffering off;" (or honour X-Accel-Buffering: no), Caddy without response_buffers (flush_interval -1), no compression of text/event-stream',
    });
  }
  await options.http
    .fetch(mcpUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, ...protocol } })
    .then((response) => response.arrayBuffer())
    .catch(() => undefined);
}

/** A JSON-RPC answer as JSON or as the first `data:` of an event stream. */
async function readMcpBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  if (/text\/event-stream/.test(response.headers.get('content-type') ?? '')) {
    const data = text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trim())
      .find((line) => line.startsWith('{'));
    return data ? JSON.parse(data) : undefined;
  }
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function getJson(http: HttpClient, url: string): Promise<{ status: number; body?: unknown; error?: string }> {
  try {
    const response = await http.fetch(url, {
      headers: { accept: 'application/json', 'mcp-protocol-version': '2025-11-25' },
    });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      return { status: response.status, error: `${response.status} (not JSON)` };
    }
  } catch (error) {
    return { status: 0, error: explainNetworkError(error) };
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\./.test(hostname) || hostname === '[::1]';
}
