#!/usr/bin/env node
// `npm test`: everything CI checks. Lint (module boundaries included), typecheck, unit tests,
// build, then e2e tests one project at a time (they start real processes), then one summary of
// the test counts. Nx's cache is skipped for tests so that the counts are those of this run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const countsDir = join(root, 'tmp/test-counts');
rmSync(countsDir, { recursive: true, force: true });

const nx = (args) => {
  console.log(`\n$ nx ${args.join(' ')}`);
  const run = spawnSync(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
  return run.status ?? 1;
};

const steps = [
  ['run-many', '-t', 'lint', 'typecheck', 'build', '--output-style=static'],
  ['run-many', '-t', 'test', '--output-style=static', '--skip-nx-cache'],
  ['run-many', '-t', 'e2e', '--output-style=static', '--skip-nx-cache', '--parallel=1'],
];
let failed = false;
for (const step of steps) {
  if (nx(step) !== 0) failed = true;
}

if (existsSync(countsDir)) {
  const rows = readdirSync(countsDir).map((file) => JSON.parse(readFileSync(join(countsDir, file), 'utf8')));
  const total = (kind) =>
    rows
      .filter((row) => row.kind === kind)
      .reduce(
        (sum, row) => ({
          passed: sum.passed + row.passed,
          failed: sum.failed + row.failed,
          skipped: sum.skipped + row.skipped,
          suites: sum.suites + row.suites,
        }),
        { passed: 0, failed: 0, skipped: 0, suites: 0 },
      );
  console.log('\nTest counts');
  for (const row of rows.sort((a, b) => a.kind.localeCompare(b.kind) || a.project.localeCompare(b.project))) {
    console.log(
      `  ${row.kind.padEnd(4)} ${row.project.padEnd(24)} ${String(row.passed).padStart(4)} passed ${String(row.failed).padStart(3)} failed ${String(row.skipped).padStart(3)} skipped`,
    );
  }
  for (const kind of ['unit', 'e2e']) {
    const t = total(kind);
    console.log(`  ${kind} total: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped in ${t.suites} suites`);
  }
}
process.exit(failed ? 1 : 0);
