// Writes this Jest run's pass/fail counts to tmp/test-counts/<displayName>.json so that
// `npm test` can print one summary of unit and e2e counts across every project.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class CountReporter {
  constructor(globalConfig, options = {}) {
    this.displayName = options.displayName ?? 'unknown';
    this.kind = options.kind ?? 'unit';
  }
  onRunComplete(_contexts, results) {
    const dir = join(__dirname, '../../tmp/test-counts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `${this.displayName}.json`),
      JSON.stringify({
        project: this.displayName,
        kind: this.kind,
        passed: results.numPassedTests,
        failed: results.numFailedTests,
        skipped: results.numPendingTests + results.numTodoTests,
        suites: results.numTotalTestSuites,
        // Suites that failed to load or threw outside a test: no test of theirs is counted above.
        suiteErrors: results.numRuntimeErrorTestSuites,
      }),
    );
  }
}
module.exports = CountReporter;
