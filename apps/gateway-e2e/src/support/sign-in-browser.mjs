#!/usr/bin/env node
// A stand-in for the person at the browser, for clients that open the sign-in page themselves (mcp-remote: the
// `open` package runs xdg-open, which runs `$BROWSER <url>`). It follows the authorization server's redirects with a
// cookie jar, fills the dev login form (DESIGN.md: input name=username) and allows on the consent form (button
// name=decision value=allow), then delivers the final redirect to the client's loopback callback, as a browser would.
// Only loopback is ever dialled. Each run appends one JSON line to $SIGN_IN_LOG: the forms filled and the callback's
// status, so a test can tell a first sign-in (login, consent) from a reconnect (login only).
import { appendFileSync } from 'node:fs';
import { parseHTML } from 'linkedom';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const start = new URL(process.argv[2] ?? '');
const username = process.env.SIGN_IN_USER ?? 'browser-hook';
const forms = [];
/** What the client asked for, as the sign-in page's URL says. */
const asked = Object.fromEntries(
  ['client_id', 'scope', 'resource', 'prompt'].map((name) => [name, start.searchParams.get(name)]),
);
const jar = new Map();

async function run() {
  let url = start;
  let init = {};
  for (let step = 0; step < 12; step++) {
    if (!LOOPBACK.has(url.hostname)) throw new Error(`refusing to dial ${url.origin}: not loopback`);
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(';', 1)[0];
      jar.set(pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1));
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url);
      init = {};
      continue;
    }
    const html = await response.text();
    if (url.origin !== start.origin) return { callback: response.status }; // the client's callback answered
    if (!response.ok) throw new Error(`${response.status} at ${url.href}: ${html.slice(0, 300)}`);
    const form = parseHTML(html).document.querySelector('form');
    if (!form) throw new Error(`no form at ${url.href}`);
    const fields = new URLSearchParams();
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      if (name) fields.set(name, name === 'username' ? username : (input.getAttribute('value') ?? ''));
    }
    const consent = form.querySelector('button[name="decision"]') !== null;
    if (consent) fields.set('decision', 'allow');
    forms.push(consent ? 'consent' : 'login');
    url = new URL(form.getAttribute('action') ?? url.href, url);
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url.origin },
      body: fields.toString(),
    };
  }
  throw new Error('too many steps');
}

run().then(
  (result) =>
    appendFileSync(process.env.SIGN_IN_LOG ?? '/dev/null', `${JSON.stringify({ asked, forms, ...result })}\n`),
  (error) => {
    appendFileSync(
      process.env.SIGN_IN_LOG ?? '/dev/null',
      `${JSON.stringify({ asked, forms, error: String(error) })}\n`,
    );
    process.exitCode = 1;
  },
);
