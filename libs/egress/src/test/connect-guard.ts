import type { LookupAddress } from 'node:dns';
import { isIP, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface ConnectGuard {
  /** Every non-loopback address a connection was attempted to (none reached the network). */
  readonly violations: string[];
  restore(): void;
}

type Options = { host?: string; path?: string; lookup?: unknown } & Record<string, unknown>;
type LookupCallback = (error: Error | null, address?: string | LookupAddress[], family?: number) => void;

const isLoopback = (address: string): boolean =>
  ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback';

/**
 * For tests of code that must refuse private, link-local and other internal addresses: every TCP connection this
 * process opens is checked at the last moment (`Socket#connect`, after name resolution, whatever resolver the code
 * uses) and anything that is not loopback fails with an error instead of sending a packet; the attempt is recorded
 * in `violations`, so a regression fails the test rather than reaching the network.
 */
export function installConnectGuard(): ConnectGuard {
  const violations: string[] = [];
  const original = Socket.prototype.connect;
  const refuse = (address: string): Error => {
    violations.push(address);
    return new Error(`connect guard: ${address} is not loopback; a test may not reach it`);
  };
  Socket.prototype.connect = function guarded(this: Socket, ...args: unknown[]) {
    // net.connect passes its normalized [options, callback] array; direct calls pass (options | port, ...).
    let options: Options;
    if (Array.isArray(args[0])) options = args[0][0] as Options;
    else if (typeof args[0] === 'object' && args[0] !== null) options = args[0] as Options;
    else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
      options = { port: Number(args[0]), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
      args = [options, ...args.slice(typeof args[1] === 'string' ? 2 : 1)];
    } else return original.apply(this, args as Parameters<Socket['connect']>); // a Unix socket path
    if (options.path) return original.apply(this, args as Parameters<Socket['connect']>);
    const host = options.host ?? 'localhost';
    if (isIP(host)) {
      if (!isLoopback(host)) {
        const error = refuse(host);
        process.nextTick(() => this.destroy(error));
        return this;
      }
      return original.apply(this, args as Parameters<Socket['connect']>);
    }
    const lookup = options.lookup as ((host: string, opts: unknown, cb: LookupCallback) => void) | undefined;
    if (!lookup) {
      const error = refuse(`${host} (resolved by the system; tests resolve through a stub or pass addresses)`);
      process.nextTick(() => this.destroy(error));
      return this;
    }
    options.lookup = (name: string, opts: unknown, callback: LookupCallback) =>
      lookup(name, opts, (error, address, family) => {
        if (error) return callback(error);
        const list = Array.isArray(address) ? address.map((entry) => entry.address) : [address ?? ''];
        const bad = list.find((candidate) => !isLoopback(candidate));
        if (bad !== undefined) return callback(refuse(bad));
        return callback(null, address, family);
      });
    return original.apply(this, args as Parameters<Socket['connect']>);
  } as Socket['connect'];
  return { violations, restore: () => void (Socket.prototype.connect = original) };
}
