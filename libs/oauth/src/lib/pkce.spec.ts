import { isValidCodeVerifier, s256Challenge, verifyS256 } from './pkce';

describe('PKCE S256 (RFC 7636)', () => {
  // RFC 7636 Appendix B test vector.
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('computes the Appendix B challenge', () => {
    expect(s256Challenge(verifier)).toBe(challenge);
  });

  it('accepts the matching verifier and refuses any other', () => {
    expect(verifyS256(verifier, challenge)).toBe(true);
    expect(verifyS256(`${verifier.slice(0, -1)}Y`, challenge)).toBe(false);
    expect(verifyS256(verifier, `${challenge}x`)).toBe(false);
  });

  it('refuses verifiers of the wrong length or character set (§4.1)', () => {
    expect(isValidCodeVerifier('a'.repeat(42))).toBe(false);
    expect(isValidCodeVerifier('a'.repeat(43))).toBe(true);
    expect(isValidCodeVerifier('a'.repeat(128))).toBe(true);
    expect(isValidCodeVerifier('a'.repeat(129))).toBe(false);
    expect(isValidCodeVerifier(`${'a'.repeat(43)} `)).toBe(false);
    const short = 'abc';
    expect(verifyS256(short, s256Challenge(short))).toBe(false);
  });
});
