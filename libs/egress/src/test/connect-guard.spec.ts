import { connect, type NetConnectOpts, Socket } from 'node:net';
import { installConnectGuard } from './connect-guard';

/**
 * The guard must itself fail closed, or the tests that rely on it could send packets. Underneath it sits a fake
 * `Socket#connect` that records and never touches the network, so even a broken guard sends nothing here.
 */
describe('installConnectGuard', () => {
  const real = Socket.prototype.connect;
  const passed: string[] = [];
  beforeAll(() => {
    Socket.prototype.connect = function fake(this: Socket, ...args: unknown[]) {
      const options = (Array.isArray(args[0]) ? args[0][0] : args[0]) as {
        host?: string;
        lookup?: (host: string, options: object, callback: (error: Error | null, address?: string) => void) => void;
      };
      // Like net: a name goes through `lookup` first, and only an answer reaches the socket.
      const reach = (error: Error | null, address?: string) => {
        if (!error) passed.push(address ?? '');
        this.destroy(error ?? new Error('fake connect'));
      };
      if (options.lookup) options.lookup(options.host ?? '', {}, reach);
      else process.nextTick(() => reach(null, options.host));
      return this;
    } as Socket['connect'];
  });
  afterAll(() => void (Socket.prototype.connect = real));

  const attempt = (options: NetConnectOpts): Promise<string> =>
    new Promise((resolve) => connect(options).once('error', (error) => resolve(error.message)));

  it('refuses a private or link-local address, by literal or through any lookup, and records it', async () => {
    const guard = installConnectGuard();
    try {
      expect(await attempt({ host: '10.255.255.1', port: 9 })).toMatch(/connect guard: 10.255.255.1/);
      const lookup = ((_host: string, _options: unknown, callback: (e: null, a: string, f: number) => void) =>
        callback(null, '169.254.169.254', 4)) as never;
      expect(await attempt({ host: 'metadata.test', port: 80, lookup })).toMatch(/connect guard: 169.254.169.254/);
      expect(await attempt({ host: 'example.test', port: 80 })).toMatch(/resolved by the system/);
      expect(guard.violations).toHaveLength(3);
      // The literal and the system-resolved name never reached the socket layer.
      expect(passed).toEqual([]);
    } finally {
      guard.restore();
    }
  });

  it('lets loopback through', async () => {
    const guard = installConnectGuard();
    try {
      expect(await attempt({ host: '127.0.0.1', port: 9 })).toBe('fake connect');
      expect(passed).toContain('127.0.0.1');
      expect(guard.violations).toEqual([]);
    } finally {
      guard.restore();
    }
  });
});
