import { createHash } from 'node:crypto';
import type { KeyValueStore } from '@gateway/storage';

/** A stdio-proxy replica as its peers know it: a random id per process start and its internal origin. */
export interface Peer {
  readonly id: string;
  readonly url: string;
}

/** What a replica owns: a 2025-era session's child, or a user's children (2026-07-28, STDIO_CHILD_PER=user). */
export interface Claim {
  readonly kind: 'session' | 'user';
  /** The session id, or the user id ('' without the edge). */
  readonly key: string;
}

/** Where the children of a claim live: here, on a live peer, or nowhere (never claimed, ended, owner dead). */
export type Owner =
  { readonly kind: 'self' } | { readonly kind: 'peer'; readonly peer: Peer } | { readonly kind: 'none' };

/** A replica announces itself this often; its entry expires after HEARTBEAT_TTL_SECONDS without one (owner dead). */
const HEARTBEAT_MS = 3_000;
const HEARTBEAT_TTL_SECONDS = 10;

/**
 * Which stdio-proxy replica owns which session or user, in the shared KeyValueStore (Redis), so that any replica
 * can forward a request to the process holding the child (docs/stdio-proxy.md "Replicas"):
 * `stdio:<service>:replica:<id>` → origin, renewed every 3 s with a 10 s TTL (the liveness of the replica), and
 * `stdio:<service>:session:<sha256(id)>` / `stdio:<service>:user:<sha256(user id)>` → the owner's replica id, with a TTL
 * the owner renews on every request it serves. An owner whose replica entry expired is dead: its claims count
 * as unowned. A graceful stop deletes the replica's entries at once.
 */
export class OwnerRegistry {
  /** Keys of the claims this replica holds, deleted on stop. */
  private readonly owned = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;

  public constructor(
    private readonly store: KeyValueStore,
    private readonly service: string,
    public readonly self: Peer,
    /** TTL of a claim, renewed by every request the owner serves. */
    private readonly claimTtlSeconds: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Announces this replica, now and every 3 s (a store that does not answer yet is retried; /readyz reports it). */
  public async start(): Promise<void> {
    await this.beat().catch(this.onError);
    this.heartbeat = setInterval(() => void this.beat().catch(this.onError), HEARTBEAT_MS).unref();
  }

  /** Leaves: peers see this replica's sessions as ended (404) and its users as unowned, at once. */
  public async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    const keys = [this.replicaKey(this.self.id), ...this.owned];
    this.owned.clear();
    await this.store.delete(...keys);
  }

  /** Takes `claim` for this replica; with `onlyIfAbsent`, false when another replica holds it. */
  public async claim(claim: Claim, onlyIfAbsent = false): Promise<boolean> {
    const key = this.keyOf(claim);
    const taken = await this.store.set(key, this.self.id, { ttlSeconds: this.claimTtlSeconds, onlyIfAbsent });
    if (taken) this.owned.add(key);
    return taken;
  }

  /**
   * A request was served here: the claim lives on (fire and forget; a lost renewal only shortens it). A claim a peer
   * dropped meanwhile (this replica's heartbeat missed its TTL, e.g. during a Redis hiccup) is written again.
   */
  public renew(claim: Claim): void {
    const key = this.keyOf(claim);
    void this.store
      .expire(key, this.claimTtlSeconds)
      .then((alive) => alive || this.store.set(key, this.self.id, { ttlSeconds: this.claimTtlSeconds }))
      .catch(this.onError);
  }

  public async release(claim: Claim): Promise<void> {
    const key = this.keyOf(claim);
    if (!this.owned.delete(key)) return;
    await this.store.delete(key);
  }

  public async ownerOf(claim: Claim): Promise<Owner> {
    const ownerId = await this.store.get(this.keyOf(claim));
    if (ownerId === null) return { kind: 'none' };
    if (ownerId === this.self.id) return { kind: 'self' };
    const url = await this.store.get(this.replicaKey(ownerId));
    if (url !== null) return { kind: 'peer', peer: { id: ownerId, url } };
    await this.forget(claim, ownerId);
    return { kind: 'none' };
  }

  /**
   * Drops a claim of a dead (or unreachable) peer, unless it changed meanwhile. Not atomic (the store has no
   * compare-and-delete): two replicas adopting one user at the same instant may each start a child; the later
   * write wins the claim and the other child idles out (docs/stdio-proxy.md "Limits").
   */
  public async forget(claim: Claim, ownerId: string): Promise<void> {
    const key = this.keyOf(claim);
    if ((await this.store.get(key)) === ownerId) await this.store.delete(key);
  }

  private beat(): Promise<boolean> {
    return this.store.set(this.replicaKey(this.self.id), this.self.url, { ttlSeconds: HEARTBEAT_TTL_SECONDS });
  }

  private keyOf(claim: Claim): string {
    // Hashed: a user id or a client-sent session id is any string; a key is then bounded and plain.
    return `stdio:${this.service}:${claim.kind}:${createHash('sha256').update(claim.key).digest('hex')}`;
  }

  private replicaKey(id: string): string {
    return `stdio:${this.service}:replica:${id}`;
  }
}
