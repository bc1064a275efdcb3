#!/usr/bin/env node
/**
 * `npm run doctor -- <issuer or MCP URL> [more MCP URLs] [--login dev [--user NAME]] [--token T] [--json]
 *   [--resolve name=address]`: checks a deployment from the outside, as MCP clients meet it (docs/operations.md).
 * Exit 0 when every check passes (warnings allowed), 1 when one fails, 2 on a usage error.
 */
import { runDoctor } from './lib/doctor';
import { httpClient } from './lib/http';
import { renderText, summarize } from './lib/report';

const USAGE = `usage: npm run doctor -- <issuer or MCP URL> [more MCP URLs] [options]
  --login dev          sign in through the dev login and go on to tools/list on every service
  --user NAME          the dev-login username (default: doctor)
  --token TOKEN        an access token for the first MCP URL instead of signing in
  --resolve NAME=ADDR  connect to ADDR for host NAME (like curl --resolve), repeatable
  --json               the report as JSON (for CI)
`;

async function main(argv: string[]): Promise<number> {
  const urls: string[] = [];
  const overrides = new Map<string, string>();
  let json = false;
  let login: string | undefined;
  let user = 'doctor';
  let token: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--json') json = true;
    else if (arg === '--login') login = value();
    else if (arg === '--user') user = value();
    else if (arg === '--token') token = value();
    else if (arg === '--resolve') {
      const [name, address] = value().split('=');
      if (!name || !address) throw new UsageError('--resolve takes NAME=ADDRESS');
      overrides.set(name.toLowerCase(), address);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else {
      if (!URL.canParse(arg) || !/^https?:$/.test(new URL(arg).protocol))
        throw new UsageError(`not an http(s) URL: ${arg}`);
      urls.push(arg);
    }
  }
  if (!urls.length) throw new UsageError('give the issuer or an MCP URL');
  if (login !== undefined && login !== 'dev') throw new UsageError('--login supports only "dev" (the dev login)');
  const http = httpClient(overrides);
  try {
    const checks = await runDoctor({
      urls,
      http,
      ...(login ? { devUser: user } : {}),
      ...(token ? { token } : {}),
    });
    const report = summarize(urls[0] ?? '', checks);
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
    return report.ok ? 0 : 1;
  } finally {
    await http.close();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      error instanceof UsageError ? `${error.message}\n${USAGE}` : `doctor failed: ${String(error)}\n`,
    );
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
