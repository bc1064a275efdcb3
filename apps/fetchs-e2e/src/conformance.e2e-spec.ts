import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, type ServiceProcess, startService, WORKSPACE_ROOT } from '@gateway/testing';

/** The conformance CLI needs Node 22 or newer: the project's own runtime (package.json engines). */
const NODE_22 = process.execPath;
const CONFORMANCE = join(WORKSPACE_ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** Scenarios about the transport itself; the others call fixture tools/prompts/resources fetchs does not have. */
const TRANSPORT_SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

interface Check {
  readonly id: string;
  readonly status: string;
  readonly errorMessage?: string;
}

describe('fetchs: MCP conformance suite (server mode)', () => {
  let service: ServiceProcess;
  let outputDir: string;

  beforeAll(async () => {
    const port = await freePort();
    outputDir = mkdtempSync(join(tmpdir(), 'fetchs-conformance-'));
    service = await startService('fetchs', {
      // dns-rebinding-protection expects the localhost Origin of the URL it was given to be accepted.
      env: {
        PORT: String(port),
        MCP_ALLOWED_ORIGINS: `http://127.0.0.1:${port}`,
        REDIS_URL: process.env['REDIS_URL'] ?? '',
      },
    });
  });

  afterAll(async () => {
    await service?.stop();
    rmSync(outputDir, { recursive: true, force: true });
  });

  it('shows no transport-level failure', async () => {
    // The whole active suite exits 1 (fixture scenarios fail), so the exit code is not the verdict.
    await promisify(execFile)(NODE_22, [CONFORMANCE, 'server', '--url', `${service.url}/mcp`, '-o', outputDir], {
      timeout: 120_000,
    }).catch((error: { code?: number; stdout?: string }) => {
      if (typeof error.code !== 'number') throw error;
    });
    const results = readdirSync(outputDir).map((dir) => ({
      scenario: /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir)?.[1] ?? dir,
      checks: JSON.parse(readFileSync(join(outputDir, dir, 'checks.json'), 'utf8')) as Check[],
    }));
    const failed = (checks: readonly Check[]): Check[] => checks.filter((check) => check.status === 'FAILURE');
    const passed = results.flatMap((result) => result.checks).filter((check) => check.status === 'SUCCESS').length;
    const failures = results.flatMap((result) =>
      failed(result.checks).map((check) => `${result.scenario}: ${check.errorMessage ?? check.id}`),
    );
    process.stdout.write(
      `[fetchs-e2e] conformance: ${passed} checks passed, ${failures.length} failed (fixture features fetchs does not offer)\n` +
        results
          .map((result) => `  ${failed(result.checks).length === 0 ? 'pass' : 'FAIL'} ${result.scenario}`)
          .join('\n') +
        '\n',
    );
    for (const scenario of TRANSPORT_SCENARIOS) {
      const checks = results.find((candidate) => candidate.scenario === scenario)?.checks ?? [];
      expect({ scenario, ran: checks.length > 0, failures: failed(checks) }).toEqual({
        scenario,
        ran: true,
        failures: [],
      });
    }
    // What fails is the absence of fixture features (prompts, resources, logging, sampling, the test_* tools),
    // never HTTP, session or connection trouble.
    for (const failure of failures) {
      expect(failure).toMatch(
        /Method not found|(Tool|Prompt|Resource) \S+ not found|No \w+ content found|did not request|No progress notifications|Expected multiple content items/,
      );
      expect(failure).not.toMatch(/HTTP \d{3}|session|ECONN|fetch failed|socket|timed? ?out/i);
    }
  });
});
