/** A failure the operator can act on (unknown id, storage unreachable); `usage` adds the usage text. */
export class AdminError extends Error {
  public constructor(
    message: string,
    public readonly usage = false,
  ) {
    super(message);
  }
}

/** What a command prints: a table (rows + columns), one record, and/or a message. */
export interface Output {
  readonly message?: string;
  readonly rows?: readonly Record<string, unknown>[];
  readonly columns?: readonly string[];
  readonly record?: Record<string, unknown>;
  /** Print the record in text mode even with a message (config check). */
  readonly showRecord?: boolean;
}

/** `--json`: the rows, or the record, as JSON. Otherwise an aligned table or `key: value` lines. */
export function printOutput(output: Output, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(output.rows ?? output.record ?? { message: output.message }, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  if (output.rows && output.columns?.length) lines.push(...table(output.rows, output.columns));
  if (output.rows && output.rows.length === 0 && output.columns?.length) lines.push('(none)');
  if (output.record && (!output.message || output.showRecord))
    for (const [key, value] of Object.entries(output.record))
      lines.push(`${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  if (output.message) lines.push(output.message);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Columns padded to their widest cell. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string[] {
  const cell = (value: unknown) => (value === undefined || value === null ? '' : String(value));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.toUpperCase())),
    ...rows.map((row) => line(columns.map((column) => cell(row[column])))),
  ];
}
