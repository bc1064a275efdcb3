import { OAuthError } from '@gateway/oauth';
import { field, formFields } from './form';

describe('formFields (RFC 6749 §3.2)', () => {
  const FORM = 'application/x-www-form-urlencoded';

  it('drops empty parameters and keeps repeated resource values', () => {
    const fields = formFields(
      { grant_type: 'refresh_token', scope: '', resource: ['https://a/mcp', 'https://b/mcp'] },
      FORM,
    );
    expect(fields).toEqual({ grant_type: 'refresh_token', resource: ['https://a/mcp', 'https://b/mcp'] });
    expect(field(fields, 'grant_type')).toBe('refresh_token');
    expect(field(fields, 'scope')).toBeUndefined();
  });

  it('refuses repeated parameters and other content types with invalid_request', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
        return undefined;
      } catch (error) {
        return error instanceof OAuthError ? error.code : 'other';
      }
    };
    expect(code(() => formFields({ code: ['a', 'b'] }, FORM))).toBe('invalid_request');
    expect(code(() => formFields({ code: 'a' }, 'application/json'))).toBe('invalid_request');
    expect(code(() => field({ resource: ['a', 'b'] }, 'resource'))).toBe('invalid_request');
  });
});
