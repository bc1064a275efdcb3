import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WORKSPACE_ROOT } from './service-process';

/** The conformance CLI needs Node 22 or newer: the project's own runtime (package.json engines). */
const NODE_22 = process.execPath;
const CONFORMANCE = join(WORKSPACE_ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

export interface ConformanceCheck {
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  readonly errorMessage?: string;
}

export interface ConformanceRun {
  readonly scenarios: readonly { readonly scenario: string; readonly checks: readonly ConformanceCheck[] }[];
  readonly passed: number;
  readonly failed: number;
  /** Scenario names with at least one failed check. */
  readonly failedScenarios: readonly string[];
  /** One line per scenario plus the totals, for the test output. */
  readonly summary: string;
}

/**
 * Runs `conformance server --url <url>` (the official MCP suite, active scenarios unless `scenarios`
 * are named) and reads every scenario's `checks.json`. The exit code is not the verdict: callers
 * assert on the checks.
 */
export async function runConformance(
  url: string,
  scenarios: readonly string[] = [],
  /** Extra Node flags and environment for the CLI, e.g. `--import` of a preload that adds a bearer token. */
  options: {
    readonly nodeArgs?: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    /** Extra CLI arguments, e.g. `['--requirements', '2026-07-28']` for the 2026-07-28 era. */
    readonly args?: readonly string[];
  } = {},
): Promise<ConformanceRun> {
  const outputDir = mkdtempSync(join(tmpdir(), 'conformance-'));
  try {
    const runs = scenarios.length ? scenarios.map((scenario) => ['--scenario', scenario]) : [[]];
    const errors: string[] = [];
    for (const extra of runs) {
      await promisify(execFile)(
        NODE_22,
        [
          ...(options.nodeArgs ?? []),
          CONFORMANCE,
          'server',
          '--url',
          url,
          '-o',
          outputDir,
          ...(options.args ?? []),
          ...extra,
        ],
        {
          timeout: 300_000,
          env: { ...process.env, ...options.env },
        },
      ).catch((error: { code?: unknown; stderr?: string }) => {
        if (typeof error.code !== 'number') throw error;
        errors.push(error.stderr ?? '');
      });
    }
    if (readdirSync(outputDir).length === 0) {
      throw new Error(`the conformance CLI produced no results: ${errors.join('\n').slice(-2000)}`);
    }
    const results = readdirSync(outputDir).map((dir) => ({
      scenario: /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir)?.[1] ?? dir,
      checks: JSON.parse(readFileSync(join(outputDir, dir, 'checks.json'), 'utf8')) as ConformanceCheck[],
    }));
    results.sort((a, b) => a.scenario.localeCompare(b.scenario));
    const count = (status: string): number =>
      results.flatMap((result) => result.checks).filter((check) => check.status === status).length;
    const failures = (checks: readonly ConformanceCheck[]): ConformanceCheck[] =>
      checks.filter((check) => check.status === 'FAILURE');
    const lines = results.map((result) => {
      const failed = failures(result.checks);
      return `  ${failed.length ? 'FAIL' : 'pass'} ${result.scenario}${failed.length ? `: ${failed.map((check) => check.errorMessage ?? check.id).join('; ')}` : ''}`;
    });
    const passed = count('SUCCESS');
    const failed = count('FAILURE');
    return {
      scenarios: results,
      passed,
      failed,
      failedScenarios: results.filter((result) => failures(result.checks).length > 0).map((result) => result.scenario),
      summary: `${lines.join('\n')}\n  total: ${passed} checks passed, ${failed} failed, ${results.length} scenarios`,
    };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}
