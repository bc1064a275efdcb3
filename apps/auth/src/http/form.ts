import { OAuthError } from '@gateway/oauth';

/** Parameters that may repeat (RFC 8707 §2: `resource`); every other one must appear at most once. */
const REPEATABLE = new Set(['resource']);

/**
 * The fields of an OAuth endpoint's form body (RFC 6749 §3.2: `application/x-www-form-urlencoded`,
 * parameters without a value are treated as omitted, and no parameter may be included more than once).
 */
export function formFields(
  body: unknown,
  contentType: string | undefined,
): Record<string, string | string[] | undefined> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) {
    throw new OAuthError('invalid_request', 'send the request as application/x-www-form-urlencoded');
  }
  const fields: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    const values = (Array.isArray(value) ? value : [value]).map(String).filter((item) => item !== '');
    if (values.length === 0) continue;
    if (values.length > 1 && !REPEATABLE.has(name))
      throw new OAuthError('invalid_request', `parameter ${name.slice(0, 40)} is repeated`);
    fields[name] = values.length === 1 ? values[0] : values;
  }
  return fields;
}

/** A single-valued field. */
export function field(fields: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = fields[name];
  if (Array.isArray(value)) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
  return value;
}
