import { createSocket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface DnsStub {
  /** `127.0.0.1:<port>`, for a resolver's server list (e.g. fetchs' FETCH_DNS_SERVERS). */
  readonly server: string;
  /** How many questions each name was asked (lower-case name → count). */
  readonly queries: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

/**
 * A tiny authoritative DNS server over UDP (RFC 1035 §4) on 127.0.0.1 answering A and AAAA questions
 * from `records` (name → addresses); unknown names get NXDOMAIN. For tests that need a host name
 * resolving to an address of their choice, without touching /etc/hosts or the real DNS.
 */
export async function startDnsStub(records: Readonly<Record<string, readonly string[]>>): Promise<DnsStub> {
  const socket = createSocket('udp4');
  const queries = new Map<string, number>();
  const table = new Map(Object.entries(records).map(([name, addresses]) => [name.toLowerCase(), addresses]));
  socket.on('message', (query, peer) => {
    const question = readQuestion(query);
    if (!question) return;
    queries.set(question.name, (queries.get(question.name) ?? 0) + 1);
    const addresses = table.get(question.name);
    const answers = (addresses ?? []).filter((address) =>
      question.type === TYPE_A ? isIPv4(address) : question.type === TYPE_AAAA && isIPv6(address),
    );
    socket.send(answer(query, question.end, addresses ? 0 : 3, answers, question.type), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  if (query.length < 17 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset] as number;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += length + 1;
  }
  if (offset + 5 > query.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

function answer(query: Buffer, questionEnd: number, rcode: number, addresses: readonly string[], type: number): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | rcode, 2); // QR, AA, RD copied, rcode
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const data = type === TYPE_A ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
    const record = Buffer.alloc(12);
    record.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(1, 6); // TTL 1 s
    record.writeUInt16BE(data.length, 10);
    return Buffer.concat([record, data]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return Buffer.from(groups.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]));
}
