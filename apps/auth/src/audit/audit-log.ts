import { Injectable, Logger } from '@nestjs/common';
import { counter } from '@gateway/platform';

const events = counter(
  'auth_events_total',
  'audited events: tokens issued/refreshed/refused/revoked, /verify refusals',
  ['event'],
);

/** What the audit log records: one line per token event and per /verify refusal. */
export type AuditEvent =
  'token.issued' | 'token.refreshed' | 'token.refused' | 'token.revoked' | 'family.revoked' | 'verify.refused';

export interface AuditFields {
  /** `sub` of the user, when known. */
  readonly user?: string;
  readonly client?: string;
  /** Catalog service name (or resource URL). */
  readonly service?: string;
  /** Why (refusals, revocations). */
  readonly reason?: string;
  readonly [extra: string]: string | number | boolean | undefined;
}

/**
 * The audit trail: a structured pino line (`audit: <event>` plus user, client, service, reason) through
 * Nest's Logger, so it lands in the same JSON stream as every other log and can be filtered on `audit`.
 * Never logs a token or secret.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('Audit');

  public record(event: AuditEvent, fields: AuditFields): void {
    events.inc({ event });
    this.logger.log({ audit: event, ...fields }, event);
  }
}
