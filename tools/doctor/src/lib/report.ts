/** One finding: what was checked, how it went, and for a failure what to change, in plain words. */
export interface Check {
  /** Stable identifier (`challenge`, `cors-preflight`, ...), for --json consumers. */
  readonly id: string;
  /** What the check is about: a URL, a service, the issuer. */
  readonly subject: string;
  readonly status: 'pass' | 'fail' | 'warn' | 'skip';
  /** What was seen. */
  readonly detail: string;
  /** What to change (failures and warnings). */
  readonly fix?: string;
}

export interface Report {
  readonly target: string;
  readonly checks: readonly Check[];
  readonly summary: Readonly<Record<Check['status'], number>>;
  readonly ok: boolean;
}

export function summarize(target: string, checks: readonly Check[]): Report {
  const summary = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const check of checks) summary[check.status] += 1;
  return { target, checks, summary, ok: summary.fail === 0 };
}

const MARK: Record<Check['status'], string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' };

/** The report for people: one line per check, the fix indented under each failure and warning. */
export function renderText(report: Report): string {
  const lines = [`MCP gateway doctor: ${report.target}`];
  let subject = '';
  for (const check of report.checks) {
    if (check.subject !== subject) {
      subject = check.subject;
      lines.push('', subject);
    }
    lines.push(`  ${MARK[check.status]}  ${check.id.padEnd(34)} ${check.detail}`);
    if (check.fix && check.status !== 'pass') lines.push(`        fix: ${check.fix}`);
  }
  const { pass, fail, warn, skip } = report.summary;
  lines.push('', `${pass} passed, ${fail} failed, ${warn} warnings, ${skip} skipped`);
  return `${lines.join('\n')}\n`;
}
