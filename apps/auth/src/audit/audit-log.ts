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

/**
 * Stable, queryable reason codes (`reasonCode` in the line), next to the human-readable `reason`.
 * Add a code here when you add a refusal; never reword or reuse one (dashboards and alerts query them).
 */
export type AuditReasonCode =
  // /token, authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6)
  | 'code_replayed'
  | 'code_expired'
  | 'client_mismatch'
  | 'redirect_uri_mismatch'
  | 'pkce_failed'
  // /token, refresh_token grant (RFC 6749 §6, RFC 9700 §4.14.2)
  | 'refresh_token_unknown'
  | 'refresh_token_reused'
  // both grants (RFC 8707 §2.2, access policy)
  | 'resource_mismatch'
  | 'service_unavailable'
  | 'policy_denied'
  // /verify (RFC 6750 §3.1, RFC 9068 §4)
  | 'no_service'
  | 'token_missing'
  | 'malformed_authorization'
  | 'storage_unavailable'
  | 'token_invalid'
  | 'audience_mismatch'
  | 'insufficient_scope'
  // /revoke (RFC 7009 §2.1)
  | 'revocation_requested';

export interface AuditFields {
  /** Stable code of why (refusals, revocations). */
  readonly reasonCode?: AuditReasonCode;
  /** `sub` of the user, when known. */
  readonly user?: string;
  readonly client?: string;
  /** Catalog service name (or resource URL). */
  readonly service?: string;
  /** Why, in words (refusals, revocations). */
  readonly reason?: string;
  readonly [extra: string]: string | number | boolean | undefined;
}

/**
 * The audit trail: a structured pino line (`audit: <event>`, `reasonCode`, plus user, client, service, reason)
 * through Nest's Logger, so it lands in the same JSON stream as every other log and can be filtered on `audit`
 * and `reasonCode`. Never logs a token or secret.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('Audit');

  public record(event: AuditEvent, fields: AuditFields): void {
    events.inc({ event });
    this.logger.log({ audit: event, ...fields }, event);
  }
}
