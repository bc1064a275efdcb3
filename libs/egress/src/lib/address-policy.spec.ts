import { AddressPolicy, parseRule, refusedAddressClass } from './address-policy';
import { EgressRefused as FetchRefused } from './errors';

describe('refusedAddressClass', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.0.2', /loopback/],
    ['10.1.2.3', /RFC 1918/],
    ['172.16.0.1', /RFC 1918/],
    ['172.31.255.255', /RFC 1918/],
    ['192.168.1.1', /RFC 1918/],
    ['169.254.169.254', /link-local.*metadata/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.10', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fe80::1', /link-local/],
    ['fc00::1', /unique-local/],
    ['fd00:ec2::254', /unique-local.*metadata/],
    ['ff02::1', /multicast/],
    ['fec0::1', /site-local/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:10.0.0.1', /RFC 1918/],
    ['::ffff:169.254.169.254', /metadata/],
    ['::127.0.0.1', /loopback/],
    ['::7f00:1', /outside 2000::\/3/],
    ['::ffff:0:127.0.0.1', /IPv4-translated/],
    ['64:ff9b::127.0.0.1', /NAT64.*127\.0\.0\.1.*loopback/],
    ['64:ff9b::a00:1', /NAT64.*10\.0\.0\.1.*RFC 1918/],
    ['2002:c0a8:0101::1', /6to4.*192\.168\.1\.1/],
    ['2002:7f00:1::', /6to4.*127\.0\.0\.1/],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', /Teredo.*10\.0\.0\.1/],
    ['2001:db8::1', /reserved/],
  ])('refuses %s', (address, reason) => {
    expect(refusedAddressClass(address)).toMatch(reason);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('lets the public address %s through', (address) => {
    expect(refusedAddressClass(address)).toBeUndefined();
  });
});

describe('parseRule', () => {
  it('reads hosts, wildcards, addresses and CIDR ranges, each with an optional port', () => {
    expect(parseRule('Intranet.Example.')).toEqual({ host: 'intranet.example', wildcard: false, port: undefined });
    expect(parseRule('*.corp.example:8443')).toEqual({ host: 'corp.example', wildcard: true, port: 8443 });
    expect(parseRule('10.0.0.0/8').cidr?.[1]).toBe(8);
    expect(parseRule('127.0.0.1:8080')).toMatchObject({ port: 8080 });
    expect(parseRule('[fd00::1]:8080')).toMatchObject({ port: 8080 });
    expect(parseRule('fd00::/8').cidr?.[1]).toBe(8);
    expect(parseRule('::ffff:10.0.0.0/104').cidr?.map(String)).toEqual(['10.0.0.0', '8']);
  });

  it.each(['http://x', 'a b', '10.0.0.0/33', 'host:99999', '-bad-.example'])('rejects %p', (entry) => {
    expect(() => parseRule(entry)).toThrow();
  });
});

describe('AddressPolicy', () => {
  const open = new AddressPolicy({ allow: [], deny: [] });

  it('returns the checked addresses in canonical form', () => {
    expect(open.check('example.com', 443, ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'])).toEqual([
      '93.184.216.34',
      '2606:2800:220:1:248:1893:25c8:1946',
    ]);
    expect(open.check('x', 80, ['::ffff:8.8.8.8'])).toEqual(['8.8.8.8']);
  });

  it('refuses a name when any one of its addresses is refused (DNS answers mixing public and private)', () => {
    expect(() => open.check('mixed.example', 80, ['93.184.216.34', '10.0.0.7'])).toThrow(
      new FetchRefused(
        'refused: mixed.example (10.0.0.7) is not public (private network (RFC 1918)); fetchs reaches only public addresses unless FETCH_ALLOW lists them',
      ),
    );
  });

  it('refuses a name without addresses', () => {
    expect(() => open.check('none.example', 80, [])).toThrow(FetchRefused);
  });

  it('lets allow-listed destinations through, by CIDR, by name and by port', () => {
    const policy = new AddressPolicy({ allow: ['10.0.0.0/8', 'wiki.internal', '127.0.0.1:8080'], deny: [] });
    expect(policy.check('svc', 80, ['10.9.9.9'])).toEqual(['10.9.9.9']);
    expect(policy.check('wiki.internal', 80, ['192.168.0.5'])).toEqual(['192.168.0.5']);
    expect(policy.check('127.0.0.1', 8080, ['127.0.0.1'])).toEqual(['127.0.0.1']);
    expect(() => policy.check('127.0.0.1', 8081, ['127.0.0.1'])).toThrow(/loopback/);
    expect(() => policy.check('other.internal', 80, ['192.168.0.5'])).toThrow(/RFC 1918/);
  });

  it('lets the deny-list win over the allow-list and over public addresses', () => {
    const policy = new AddressPolicy({ allow: ['*.example.com'], deny: ['secret.example.com', '93.184.216.0/24'] });
    expect(() => policy.check('secret.example.com', 443, ['8.8.8.8'])).toThrow(/deny-list/);
    expect(() => policy.check('public.example.org', 443, ['93.184.216.34'])).toThrow(/deny-list/);
    expect(policy.check('www.example.com', 443, ['10.0.0.1'])).toEqual(['10.0.0.1']);
  });

  it('names the bad entry of a list', () => {
    expect(() => new AddressPolicy({ allow: [], deny: ['ftp://x'] })).toThrow(/FETCH_DENY entry "ftp:\/\/x"/);
  });
});
