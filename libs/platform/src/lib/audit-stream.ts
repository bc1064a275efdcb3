import pino, { type Logger } from 'pino';

/** One MCP tool call as the audit stream records it (docs/authorization.md "Audit"). */
export interface ToolCallRecord {
  readonly user: string | undefined;
  readonly client: string | undefined;
  readonly service: string;
  /** The tool (tools/call), prompt (prompts/get) or resource URI (resources/read). */
  readonly tool: string;
  readonly method: string;
  /** MCP protocol era of the request. */
  readonly era: 'legacy' | 'modern';
  readonly decision: 'allowed' | 'refused';
  /** Stable code: `granted` (allowed), `insufficient_scope` (403 step-up), `not_granted` (hidden: unknown tool). */
  readonly reason: 'granted' | 'insufficient_scope' | 'not_granted';
  /** The scope the call needs beyond the base scope, if any. */
  readonly scope?: string;
  /** Milliseconds from the request's arrival to its answer being written. */
  readonly latencyMs: number;
}

const streams = new Map<string, Logger>();

/**
 * The audit stream: its own pino logger (not Nest's), one JSON line per record with `"stream":"audit"`, an
 * ISO time and no request noise, so it can be shipped and kept apart from the operational log. `file` (the
 * validated `AUDIT_LOG_FILE`) appends to that file; empty writes to standard output.
 */
export function auditStream(file: string): { toolCall(record: ToolCallRecord): void } {
  let logger = streams.get(file);
  if (!logger) {
    logger = pino(
      { base: { stream: 'audit' }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' },
      pino.destination({ dest: file || 1, mkdir: Boolean(file), sync: false }),
    );
    streams.set(file, logger);
  }
  const target = logger;
  return { toolCall: (record) => target.info({ event: 'tool.call', ...record }, 'tool.call') };
}
