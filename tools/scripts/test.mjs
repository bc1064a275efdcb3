#!/usr/bin/env node
// `npm test`: everything CI checks. Formatting, lint (module boundaries included), typecheck, build, unit
// tests, then e2e tests one project at a time (they start real processes), then one summary of the test
// counts. Nx's cache is skipped for tests so that the counts are those of this run.
//
// The summary cannot hide a failure: a project that has a test target but wrote no counts (its global setup
// threw, Jest crashed), a suite that failed to load, and a project that ran no test all count as failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const countsDir = join(root, 'tmp/test-counts');
rmSync(countsDir, { recursive: true, force: true });
const env = { ...process.env, NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_DAEMON: 'false' };

const run = (label, command, args, options = {}) => {
  console.log(`\n$ ${label} ${args.join(' ')}`);
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', env, ...options }).status ?? 1;
};
const nxBin = join(root, 'node_modules/nx/dist/bin/nx.js');
const nx = (args) => run('nx', process.execPath, [nxBin, ...args]);
const projectsWith = (target) =>
  JSON.parse(
    spawnSync(process.execPath, [nxBin, 'show', 'projects', '--withTarget', target, '--json'], {
      cwd: root,
      env,
      encoding: 'utf8',
    }).stdout,
  );

const steps = [
  () => run('prettier', process.execPath, [join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '.']),
  () => nx(['run-many', '-t', 'lint', 'typecheck', 'build', '--output-style=static']),
  () => nx(['run-many', '-t', 'test', '--output-style=static', '--skip-nx-cache']),
  () => nx(['run-many', '-t', 'e2e', '--output-style=static', '--skip-nx-cache', '--parallel=1']),
];
let failed = false;
for (const step of steps) {
  if (step() !== 0) failed = true;
}

const expected = [
  ...projectsWith('test').map((project) => ({ project, kind: 'unit' })),
  ...projectsWith('e2e').map((project) => ({ project, kind: 'e2e' })),
];
const written = existsSync(countsDir)
  ? readdirSync(countsDir).map((file) => JSON.parse(readFileSync(join(countsDir, file), 'utf8')))
  : [];
const rows = expected.map(({ project, kind }) => {
  const row = written.find((counts) => counts.project === project && counts.kind === kind);
  if (!row)
    return {
      project,
      kind,
      passed: 0,
      failed: 1,
      skipped: 0,
      suites: 0,
      problem: 'wrote no results (global setup failed or Jest crashed)',
    };
  if (row.suiteErrors > 0)
    return {
      ...row,
      failed: row.failed + row.suiteErrors,
      problem: `${row.suiteErrors} suite(s) failed to load or run`,
    };
  if (row.passed + row.failed === 0) return { ...row, failed: 1, problem: 'ran no test' };
  return row;
});
if (rows.some((row) => row.failed > 0)) failed = true;

const sum = (list) =>
  list.reduce(
    (total, row) => ({
      passed: total.passed + row.passed,
      failed: total.failed + row.failed,
      skipped: total.skipped + row.skipped,
      suites: total.suites + row.suites,
    }),
    { passed: 0, failed: 0, skipped: 0, suites: 0 },
  );
console.log('\nTest counts');
for (const row of rows.sort((a, b) => b.kind.localeCompare(a.kind) || a.project.localeCompare(b.project))) {
  const counts = `${String(row.passed).padStart(4)} passed ${String(row.failed).padStart(3)} failed ${String(row.skipped).padStart(3)} skipped`;
  console.log(`  ${row.kind.padEnd(4)} ${row.project.padEnd(26)} ${counts}${row.problem ? `  <- ${row.problem}` : ''}`);
}
for (const kind of ['unit', 'e2e']) {
  const t = sum(rows.filter((row) => row.kind === kind));
  console.log(`  ${kind} total: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped in ${t.suites} suites`);
}
const all = sum(rows);
// The closing line CI reads.
console.log(`tests: ${all.passed} passed, ${all.failed} failed, ${all.skipped} skipped`);
if (failed) console.log('npm test: FAILED (see the steps and the rows marked above)');
process.exit(failed ? 1 : 0);
