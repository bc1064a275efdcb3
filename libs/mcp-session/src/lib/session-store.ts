import type { KeyValueStore } from '@gateway/storage';

/** What storage keeps about a stateful session, so that any replica can serve it. */
export interface SessionRecord {
  readonly id: string;
  /** The user the session is bound to (`x-user-id`), `null` when the service runs without the edge. */
  readonly userId: string | null;
  readonly protocolVersion: string;
  readonly clientInfo: { readonly name: string; readonly version: string } | null;
  readonly clientCapabilities: Record<string, unknown>;
  readonly createdAt: string;
  readonly lastActivityAt: string;
  /** Small per-session values of the service (e.g. echo's last message). */
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Session records in the KeyValueStore, each with TTL = the idle timeout, renewed on every request:
 * `mcp:<service>:session:<id>` (JSON; rewritten only by `setData`, so renewing it never clobbers a
 * concurrent write), `mcp:<service>:session-seen:<id>` (last activity) and
 * `mcp:<service>:user-sessions:<userId>` (set of the user's ids).
 */
export class SessionStore {
  public constructor(
    private readonly store: KeyValueStore,
    private readonly service: string,
    private readonly idleSeconds: number,
  ) {}

  public async load(id: string): Promise<SessionRecord | null> {
    const [record, seen] = await Promise.all([
      this.store.getJson<SessionRecord>(this.key(id)),
      this.store.get(this.seenKey(id)),
    ]);
    return record && { ...record, lastActivityAt: seen ?? record.lastActivityAt };
  }

  /** Writes the record and starts its idle timeout. */
  public async save(record: SessionRecord): Promise<void> {
    await this.store.setJson(this.key(record.id), record, { ttlSeconds: this.idleSeconds });
    await this.store.setAdd(this.userKey(record.userId), [record.id], this.idleSeconds);
  }

  /** A request arrived: renews the idle timeout and notes the time (without rewriting the record). */
  public async touch(record: SessionRecord): Promise<void> {
    await Promise.all([
      this.store.expire(this.key(record.id), this.idleSeconds),
      this.store.set(this.seenKey(record.id), new Date().toISOString(), { ttlSeconds: this.idleSeconds }),
      this.store.setAdd(this.userKey(record.userId), [record.id], this.idleSeconds),
    ]);
  }

  public async setData(id: string, name: string, value: unknown): Promise<void> {
    const record = await this.store.getJson<SessionRecord>(this.key(id));
    if (record) await this.save({ ...record, data: { ...record.data, [name]: value } });
  }

  public async remove(record: Pick<SessionRecord, 'id' | 'userId'>): Promise<void> {
    await this.store.delete(this.key(record.id), this.seenKey(record.id));
    await this.store.setRemove(this.userKey(record.userId), [record.id]);
  }

  /** The live sessions of one user (ended ones are pruned from the index on the way). */
  public async listForUser(userId: string | null): Promise<SessionRecord[]> {
    const ids = await this.store.setMembers(this.userKey(userId));
    const records = await Promise.all(ids.map((id) => this.load(id)));
    const gone = ids.filter((_, index) => records[index] === null);
    if (gone.length > 0) await this.store.setRemove(this.userKey(userId), gone);
    return records.filter((record): record is SessionRecord => record !== null && record.userId === userId);
  }

  private key(id: string): string {
    return `mcp:${this.service}:session:${id}`;
  }

  private seenKey(id: string): string {
    return `mcp:${this.service}:session-seen:${id}`;
  }

  private userKey(userId: string | null): string {
    return `mcp:${this.service}:user-sessions:${userId ?? ''}`;
  }
}
