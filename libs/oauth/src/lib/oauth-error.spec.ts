import { OAuthError } from './oauth-error';

describe('OAuthError', () => {
  it('serializes as RFC 6749 §5.2 JSON without the internal cause', () => {
    const error = new OAuthError('invalid_grant', 'the authorization code was already used', {
      cause: new Error('redis said X'),
    });
    expect(error.status).toBe(400);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      error: 'invalid_grant',
      error_description: 'the authorization code was already used',
    });
  });

  it("uses each code's default status unless told otherwise", () => {
    expect(new OAuthError('invalid_client', 'x').status).toBe(401);
    expect(new OAuthError('insufficient_scope', 'x').status).toBe(403);
    expect(new OAuthError('invalid_request', 'x', { status: 429 }).status).toBe(429);
  });
});
