import type { FastifyReply } from 'fastify';
import { html, sendPage } from './html';

/** An error the user sees instead of a redirect (unknown client, unregistered redirect URI, expired login). */
export function sendErrorPage(
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
  hint?: string,
): FastifyReply {
  return sendPage(
    reply,
    status,
    title,
    html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>
${hint ? html`<p>${hint}</p>` : ''}`,
  );
}

/** The dev login (DESIGN.md): a username field and a submit button, posted back with the login state. */
export function sendDevLoginPage(reply: FastifyReply, state: string, problem?: string): FastifyReply {
  return sendPage(
    reply,
    problem ? 400 : 200,
    'Sign in (development)',
    html`<h1>Sign in (development login)</h1>
<p class="warning">This gateway uses the development login: anyone can sign in as any user. Never expose it publicly.</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<form method="post" action="/login/dev">
<input type="hidden" name="state" value="${state}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required maxlength="64" pattern="[A-Za-z0-9._@\\-]+" autofocus>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>`,
  );
}

export interface ConsentDetails {
  readonly requestId: string;
  readonly csrf: string;
  readonly userLogin: string;
  readonly clientId: string;
  readonly clientName?: string;
  readonly clientUri?: string;
  /** Host of the client's metadata document URL (its client_id): who vouches for the name shown. */
  readonly documentHost?: string;
  readonly redirectUri: string;
  /** What the application asks for now (on a step-up: only the new scopes). */
  readonly scopes: readonly ConsentScope[];
  /** What this user already allowed this application, shown for context. */
  readonly alreadyAllowed: readonly ConsentScope[];
  readonly serviceName: string;
  readonly resource: string;
}

/** A scope as the consent page shows it: the service's plain words (its policy), else the gateway's. */
export interface ConsentScope {
  readonly scope: string;
  readonly description?: string;
}

const SCOPE_TEXT: Record<string, string> = {
  mcp: 'use the MCP service on your behalf',
  offline_access: 'stay connected (refresh its access without asking you again)',
};

const scopeItem = ({ scope, description }: ConsentScope) =>
  html`<li>${description ?? SCOPE_TEXT[scope] ?? scope} <small>(${scope})</small></li>`;

/** The consent form (DESIGN.md): decision=allow / decision=deny buttons, naming client, redirect host, scopes and service. */
export function sendConsentPage(reply: FastifyReply, details: ConsentDetails): FastifyReply {
  const target = describeRedirect(details.redirectUri);
  const name = details.clientName ?? details.clientId;
  return sendPage(
    reply,
    200,
    `Allow ${name}?`,
    html`<h1>Allow <strong>${name}</strong>${details.documentHost ? html` <small>(${details.documentHost})</small>` : ''} to access ${details.serviceName}?</h1>
<p>You are signed in as <strong>${details.userLogin}</strong>.</p>
<dl>
<dt>Application</dt><dd>${name}${details.clientName ? html` <small>(${details.clientId})</small>` : ''}</dd>
${details.documentHost ? html`<dt>Published by</dt><dd><code>${details.documentHost}</code> <small>(client metadata document)</small></dd>` : ''}
${details.clientUri ? html`<dt>Website</dt><dd><code>${details.clientUri}</code></dd>` : ''}
<dt>Service</dt><dd>${details.serviceName} <small><code>${details.resource}</code></small></dd>
<dt>Returns to</dt><dd><code>${target.host}</code></dd>
<dt>It may</dt><dd><ul>${details.scopes.map(scopeItem)}</ul></dd>
${details.alreadyAllowed.length > 0 ? html`<dt>Already allowed</dt><dd><ul>${details.alreadyAllowed.map(scopeItem)}</ul></dd>` : ''}
</dl>
${target.warning ? html`<p class="warning" role="note">${target.warning}</p>` : ''}
<p>Only allow applications you started yourself and trust.</p>
<form method="post" action="/consent">
<input type="hidden" name="request" value="${details.requestId}">
<input type="hidden" name="csrf" value="${details.csrf}">
<div class="actions">
<button class="primary" type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`,
  );
}

/** What the user is told about where the code goes (RFC 8252 §8.3, §8.4: loopback and app schemes are not verifiable). */
export function describeRedirect(redirectUri: string): { host: string; warning?: string } {
  const url = new URL(redirectUri);
  if (url.protocol === 'http:') {
    return {
      host: url.host,
      warning: `The answer goes to a program on this computer (${url.host}). Allow only if you just started that program.`,
    };
  }
  if (url.protocol !== 'https:') {
    return {
      host: `${url.protocol}//${url.host}`,
      warning: `The answer goes to an app registered for "${url.protocol}" links; any app can claim that. Allow only if you just started it.`,
    };
  }
  return { host: url.host };
}
