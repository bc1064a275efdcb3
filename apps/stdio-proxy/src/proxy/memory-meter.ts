import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/**
 * Resident memory (RSS) of the child processes, sampled from Linux's /proc: each child with its descendants
 * (a wrapper such as `npx` runs the real server as a grandchild). Between two samples a new child counts at the
 * average of the sampled ones, so a burst of sessions cannot overrun the budget before the next sample.
 */
export class MemoryMeter {
  /** Bytes per child pid at the last sample. */
  private readonly sampled = new Map<number, number>();
  private average = 0;
  public readonly supported: boolean;

  public constructor(private readonly proc = '/proc') {
    this.supported = existsSync(proc);
  }

  /** Samples the given children (others are forgotten). */
  public async sample(pids: readonly number[]): Promise<void> {
    if (!this.supported) return;
    const sizes = await Promise.all(pids.map(async (pid) => [pid, await this.treeRss(pid)] as const));
    this.sampled.clear();
    for (const [pid, bytes] of sizes) if (bytes > 0) this.sampled.set(pid, bytes);
    if (this.sampled.size > 0)
      this.average = [...this.sampled.values()].reduce((sum, bytes) => sum + bytes, 0) / this.sampled.size;
  }

  /** The average child at the last sample that had one (0 before any). */
  public get perChild(): number {
    return this.average;
  }

  /** Bytes the given children use now: as sampled, or at the average when started since. */
  public total(pids: readonly number[]): number {
    return pids.reduce((sum, pid) => sum + (this.sampled.get(pid) ?? this.average), 0);
  }

  private async treeRss(pid: number, depth = 0): Promise<number> {
    const own = await this.rssOf(pid);
    if (own === 0 || depth > 8) return own;
    const children = await this.childrenOf(pid);
    const below = await Promise.all(children.map((child) => this.treeRss(child, depth + 1)));
    return below.reduce((sum, bytes) => sum + bytes, own);
  }

  private async rssOf(pid: number): Promise<number> {
    try {
      const status = await readFile(`${this.proc}/${pid}/status`, 'utf8');
      const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kib ? Number(kib) * 1024 : 0;
    } catch {
      return 0; // exited meanwhile
    }
  }

  private async childrenOf(pid: number): Promise<number[]> {
    try {
      const tasks = await readdir(`${this.proc}/${pid}/task`);
      const lists = await Promise.all(
        tasks.map((task) => readFile(`${this.proc}/${pid}/task/${task}/children`, 'utf8').catch(() => '')),
      );
      return lists.flatMap((list) => list.split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return [];
    }
  }
}
