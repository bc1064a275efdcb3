import { promises as dns } from 'node:dns';
import { startDnsStub } from './dns-stub';

describe('startDnsStub', () => {
  it('answers A and AAAA questions from its table and NXDOMAIN otherwise', async () => {
    const stub = await startDnsStub({ 'Private.Test': ['10.1.2.3', 'fd00::1'], 'v4only.test': ['192.0.2.1'] });
    try {
      const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([stub.server]);
      expect(await resolver.resolve4('private.test')).toEqual(['10.1.2.3']);
      expect(await resolver.resolve6('private.test')).toEqual(['fd00::1']);
      await expect(resolver.resolve6('v4only.test')).rejects.toMatchObject({ code: 'ENODATA' });
      await expect(resolver.resolve4('unknown.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      expect(stub.queries.get('private.test')).toBe(2);
    } finally {
      await stub.close();
    }
  });
});
