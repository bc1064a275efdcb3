import { ConfigValidationError } from '@gateway/config';
import { ClientIpResolver, rateLimitKeyOf } from './client-ip';

describe('ClientIpResolver', () => {
  it('uses the socket peer and ignores X-Forwarded-For when no proxy is trusted', () => {
    const resolver = new ClientIpResolver([]);
    expect(resolver.resolve('203.0.113.5', '198.51.100.1')).toBe('203.0.113.5');
    expect(resolver.resolve('::ffff:127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('walks X-Forwarded-For from the right past trusted proxies only', () => {
    const resolver = new ClientIpResolver(['10.0.0.0/8', '::1']);
    expect(resolver.resolve('10.1.2.3', '198.51.100.1')).toBe('198.51.100.1');
    expect(resolver.resolve('10.1.2.3', '6.6.6.6, 198.51.100.1, 10.0.0.9')).toBe('198.51.100.1');
    expect(resolver.resolve('::1', ['198.51.100.7'])).toBe('198.51.100.7');
    // An untrusted peer's header is not believed.
    expect(resolver.resolve('203.0.113.5', '198.51.100.1')).toBe('203.0.113.5');
    // Garbage in the header stops the walk at the last good hop.
    expect(resolver.resolve('10.1.2.3', 'not-an-ip')).toBe('10.1.2.3');
  });

  it('treats a peer without an address (gone before the handler ran) as an unknown client, with proxies trusted', () => {
    const resolver = new ClientIpResolver(['127.0.0.1']);
    expect(resolver.resolve(undefined, '198.51.100.1')).toBe('unknown');
    expect(resolver.resolve('', undefined)).toBe('unknown');
  });

  it('refuses a TRUSTED_PROXIES entry that is not an address or CIDR', () => {
    expect(() => new ClientIpResolver(['traefik'])).toThrow(ConfigValidationError);
  });
});

describe('rateLimitKeyOf', () => {
  it('keys IPv4 by address and IPv6 by its /64', () => {
    expect(rateLimitKeyOf('203.0.113.5')).toBe('203.0.113.5');
    expect(rateLimitKeyOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKeyOf('2001:db8:1:2:bbbb::9')).toBe(rateLimitKeyOf('2001:db8:1:2:aaaa::1'));
    expect(rateLimitKeyOf('2001:db8:1:3::1')).not.toBe(rateLimitKeyOf('2001:db8:1:2::1'));
    expect(rateLimitKeyOf('unknown')).toBe('unknown');
  });
});
