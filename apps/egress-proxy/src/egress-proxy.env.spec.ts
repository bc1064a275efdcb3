import { ConfigValidationError, validateEnv } from '@gateway/config';
import { EgressProxyEnv, policyOf } from './egress-proxy.env';

describe('EgressProxyEnv', () => {
  it('listens on 3128 and allows nothing beyond public addresses by default', () => {
    const env = validateEnv(EgressProxyEnv, {});
    expect(env).toMatchObject({ PORT: 3128, EGRESS_ALLOW: [], EGRESS_DENY: [], EGRESS_CONNECT_TIMEOUT_MS: 5_000 });
    expect(() => policyOf(env).check('auth', 3000, ['172.18.0.3'])).toThrow(
      /the egress proxy reaches only public addresses unless EGRESS_ALLOW lists them/,
    );
  });

  it('names a bad EGRESS_ALLOW entry and a bad timeout', () => {
    const env = validateEnv(EgressProxyEnv, { EGRESS_ALLOW: 'wiki.internal,ftp://x' });
    expect(() => policyOf(env)).toThrow(ConfigValidationError);
    expect(() => policyOf(env)).toThrow(/EGRESS_ALLOW entry "ftp:\/\/x"/);
    expect(() => validateEnv(EgressProxyEnv, { EGRESS_CONNECT_TIMEOUT_MS: '5' })).toThrow(/EGRESS_CONNECT_TIMEOUT_MS/);
  });
});
