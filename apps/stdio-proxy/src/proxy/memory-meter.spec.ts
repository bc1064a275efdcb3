import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryMeter } from './memory-meter';

/** A fake /proc: pid → [RSS in kB, child pids]. */
function fakeProc(processes: Record<number, [number, number[]]>): string {
  const root = mkdtempSync(join(tmpdir(), 'proc-'));
  for (const [pid, [kib, children]] of Object.entries(processes)) {
    mkdirSync(join(root, pid, 'task', pid), { recursive: true });
    writeFileSync(join(root, pid, 'status'), `Name:\tnode\nVmRSS:\t  ${kib} kB\nThreads:\t1\n`);
    writeFileSync(join(root, pid, 'task', pid, 'children'), children.map((child) => `${child} `).join(''));
  }
  return root;
}

describe('MemoryMeter', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  it('sums each child with its descendants; a child started since the sample counts at the average', async () => {
    const root = fakeProc({ 10: [1000, [11]], 11: [3000, []], 20: [2000, []] });
    roots.push(root);
    const meter = new MemoryMeter(root);
    expect(meter.perChild).toBe(0);
    await meter.sample([10, 20]);
    expect(meter.total([10])).toBe(4000 * 1024);
    expect(meter.perChild).toBe(3000 * 1024);
    expect(meter.total([10, 20, 99])).toBe((4000 + 2000 + 3000) * 1024);
  });

  it('forgets children gone, keeping the last average', async () => {
    const root = fakeProc({ 10: [1000, []] });
    roots.push(root);
    const meter = new MemoryMeter(root);
    await meter.sample([10]);
    await meter.sample([42]); // exited: no /proc entry
    expect(meter.total([10])).toBe(1000 * 1024); // counted at the average until sampled again
    expect(meter.perChild).toBe(1000 * 1024);
  });
});
