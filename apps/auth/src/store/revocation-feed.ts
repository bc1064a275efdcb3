import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** How often the subscriber connection is pinged; the copy counts as stale after two missed pongs. */
const HEARTBEAT_MS = 500;
/** Retry delay of a resync that failed while the subscriber connection stayed up. */
const RESYNC_RETRY_MS = 1_000;
/** Expired ids are dropped from the copy this often (an expired id only names an expired token). */
const SWEEP_MS = 60_000;

/**
 * A replica's copy of the revoked access-token ids, kept current through Redis pub/sub so that `/verify`
 * answers "is this jti revoked?" from memory instead of a GET per request.
 *
 * Every revocation is written in one MULTI/EXEC (`RevocationFeed.write`): the `revoked:{jti}` key, the
 * `revoked-index` sorted set (score = expiry, ms) and a PUBLISH on the `revoked` channel. So a replica that
 * is subscribed gets the message, and a replica that was not finds the id in the index when it resyncs.
 *
 * The copy is trusted (`state() === 'live'`) only while all of these hold; otherwise callers fall back to
 * a GET of `revoked:{jti}` (and fail closed when that fails too):
 * - the subscriber connection is up and SUBSCRIBE was confirmed on it;
 * - after that confirmation, the whole index was read (resync): any revocation committed before the read is
 *   in it, any committed after it is published to a connection that is already subscribed;
 * - the subscriber answered a PING within the last 2 heartbeats (a silently dead connection is noticed
 *   within ~1.5 s; messages on a live TCP connection arrive in order before the pong).
 * Pub/sub is at-most-once only across a broken connection, and a broken connection forces a new resync.
 */
export class RevocationFeed {
  private readonly logger = new Logger(RevocationFeed.name);
  /** jti → expiry (ms since epoch). */
  private readonly revoked = new Map<string, number>();
  private readonly subscriber: Redis;
  private readonly channel: string;
  private readonly indexKey: string;
  /** Bumped on every connection loss, so that a resync that started before it cannot mark the copy live. */
  private generation = 0;
  private synced = false;
  private lastPong = 0;
  private stale = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private retry?: NodeJS.Timeout;

  public constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.channel = `${prefix}revoked`;
    this.indexKey = `${prefix}revoked-index`;
    // Its own connection (a subscribed connection can run nothing else); same timeouts and retries.
    this.subscriber = redis.duplicate({
      autoResubscribe: false,
      lazyConnect: true,
      connectionName: `${prefix}revocation-feed`,
    });
    this.subscriber.on('ready', () => void this.resync());
    this.subscriber.on('close', () => this.lost('subscriber connection closed'));
    this.subscriber.on('error', () => undefined); // logged as the connection state changes below
    this.subscriber.on('message', (channel: string, payload: string) => {
      if (channel === this.channel) this.apply(payload);
    });
  }

  /** Connects the subscriber (resync follows on 'ready'); resolves at once when Redis is down. */
  public start(): void {
    this.subscriber.connect().catch(() => undefined); // ioredis keeps retrying with the client's strategy
    this.timers.push(setInterval(() => this.heartbeat(), HEARTBEAT_MS).unref());
    this.timers.push(setInterval(() => this.sweep(), SWEEP_MS).unref());
  }

  public stop(): void {
    this.timers.forEach((timer) => clearInterval(timer));
    clearTimeout(this.retry);
    this.generation++;
    this.synced = false;
    this.subscriber.disconnect();
  }

  /** 'live' when `has` can be trusted, 'fallback' when callers must read storage. */
  public state(): 'live' | 'fallback' {
    return this.synced && !this.stale ? 'live' : 'fallback';
  }

  /** Whether the copy holds `jti` (meaningful only in state 'live'). */
  public has(jti: string): boolean {
    return this.revoked.has(jti);
  }

  /** Revokes `jti` until `expiresAtMs` for every replica, atomically (key, index and message), and locally. */
  public async write(jti: string, expiresAtMs: number, indexTtlSeconds: number): Promise<void> {
    const seconds = Math.ceil((expiresAtMs - Date.now()) / 1000);
    if (seconds <= 0) return;
    const results = await this.redis
      .multi()
      .set(`${this.prefix}revoked:${jti}`, '1', 'EX', seconds)
      .zadd(this.indexKey, expiresAtMs, jti)
      .zremrangebyscore(this.indexKey, '-inf', Date.now())
      .expire(this.indexKey, Math.max(indexTtlSeconds, seconds))
      .publish(this.channel, JSON.stringify({ jti, exp: expiresAtMs }))
      .exec();
    const failed = results?.find(([error]) => error)?.[0];
    if (!results || failed) throw failed ?? new Error('revocation: transaction aborted');
    this.revoked.set(jti, expiresAtMs);
  }

  private apply(payload: string): void {
    try {
      const { jti, exp } = JSON.parse(payload) as { jti?: unknown; exp?: unknown };
      if (typeof jti === 'string' && typeof exp === 'number') this.revoked.set(jti, exp);
    } catch {
      this.logger.warn('ignored a malformed revocation message');
    }
  }

  /** SUBSCRIBE (confirmed), then read the whole index: from then on the copy misses nothing. */
  private async resync(): Promise<void> {
    const generation = ++this.generation;
    this.synced = false;
    clearTimeout(this.retry);
    try {
      await this.subscriber.subscribe(this.channel);
      const entries = await this.redis.zrangebyscore(this.indexKey, Date.now(), '+inf', 'WITHSCORES');
      if (generation !== this.generation) return;
      for (let i = 0; i + 1 < entries.length; i += 2) this.revoked.set(entries[i] ?? '', Number(entries[i + 1]));
      this.lastPong = Date.now();
      this.stale = false;
      this.synced = true;
      this.logger.log(`revocation feed live (${this.revoked.size} revoked ids in memory)`);
    } catch (error) {
      if (generation !== this.generation) return;
      this.logger.warn(`revocation feed resync failed, reading storage per request: ${String(error)}`);
      this.retry = setTimeout(() => {
        if (this.subscriber.status === 'ready') void this.resync();
      }, RESYNC_RETRY_MS).unref();
    }
  }

  private lost(reason: string): void {
    this.generation++;
    if (this.synced) this.logger.warn(`revocation feed down (${reason}), reading storage per request`);
    this.synced = false;
  }

  private heartbeat(): void {
    if (!this.synced) return;
    if (Date.now() - this.lastPong > 2 * HEARTBEAT_MS) this.stale = true;
    this.subscriber.ping().then(
      () => {
        this.lastPong = Date.now();
        this.stale = false;
      },
      () => undefined,
    );
  }

  private sweep(): void {
    const now = Date.now();
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
  }
}
