import { decodeBearer, groupHeaders, redactHeader, safeEnvironment } from './inspect';

// An unsigned-looking JWT built from base64url parts; the signature part must never be printed.
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${b64({ sub: 'github:1', exp: 1 })}.SIGNATURE-PART`;

describe('echo inspection helpers', () => {
  it('never prints a credential', () => {
    expect(redactHeader('authorization', `Bearer ${jwt}`)).toBe(`Bearer [redacted, ${jwt.length} chars]`);
    expect(redactHeader('x-auth-token', jwt)).toBe(`[redacted, ${jwt.length} chars]`);
    expect(redactHeader('cookie', 'sid=secret1; theme=dark')).toBe('[redacted values] cookies: sid, theme');
    expect(redactHeader('x-user-id', 'github:1')).toBe('github:1');
    const printed = JSON.stringify(
      groupHeaders({ authorization: `Bearer ${jwt}`, 'x-api-key': 'k-123456', cookie: 'sid=secret1' }),
    );
    expect(printed).not.toContain(jwt);
    expect(printed).not.toContain('k-123456');
    expect(printed).not.toContain('secret1');
  });

  it('groups headers for a gateway debugger', () => {
    const groups = groupHeaders({
      'x-forwarded-for': '1.2.3.4',
      'x-user-id': 'u',
      'mcp-session-id': 's',
      accept: '*/*',
    });
    expect(groups).toEqual({
      edge: [['x-forwarded-for', '1.2.3.4']],
      identity: [['x-user-id', 'u']],
      mcp: [['mcp-session-id', 's']],
      other: [['accept', '*/*']],
    });
  });

  it('decodes a bearer JWT without its signature', () => {
    const decoded = decodeBearer(`Bearer ${jwt}`);
    expect(decoded).toEqual({
      header: { alg: 'ES256', typ: 'at+jwt', kid: 'k1' },
      claims: { sub: 'github:1', exp: 1 },
      hasSignature: true,
    });
    expect(JSON.stringify(decoded)).not.toContain('SIGNATURE-PART');
    expect(decodeBearer(undefined)).toMatch(/No Authorization/);
    expect(decodeBearer('Bearer opaque')).toMatch(/not a JWT/);
  });

  it('shows only allow-listed environment keys', () => {
    const shown = JSON.stringify(
      safeEnvironment({ PORT: '3101', REDIS_URL: 'redis://:pw@r:6379', GITHUB_CLIENT_SECRET: 's3cr3t' }),
    );
    expect(shown).toContain('3101');
    expect(shown).not.toContain('pw@');
    expect(shown).not.toContain('s3cr3t');
    expect(shown).not.toContain('GITHUB_CLIENT_SECRET');
  });
});
