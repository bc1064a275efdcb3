import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import type { ClientRecord } from './records';

/**
 * Registered clients (`client:{client_id}`) and the keys that live and die with them
 * (`client-keys:{client_id}`), see store/storage-schema.md.
 */
@Injectable()
export class ClientStore {
  public constructor(private readonly store: KeyValueStore) {}

  /** The client, or undefined when unknown or expired. */
  public async get(clientId: string): Promise<ClientRecord | undefined> {
    if (!clientId || clientId.length > 200) return undefined;
    return (await this.store.getJson<ClientRecord>(`client:${clientId}`)) ?? undefined;
  }

  /**
   * The first code redeemed by a registered client: from now on it lives its whole CLIENT_LIFETIME (RFC 7591
   * `client_secret_expires_at`), no longer the shorter unused lifetime. One write per client.
   */
  public async markUsed(client: ClientRecord, unusedLifetime: number): Promise<void> {
    if (client.usedAt !== undefined || client.document) return;
    const used = { ...client, usedAt: Math.floor(Date.now() / 1000) };
    await this.save(used, clientTtl(used, unusedLifetime));
  }

  /** Writes the client; `ttlSeconds` 0 keeps it until deleted. */
  public async save(client: ClientRecord, ttlSeconds: number): Promise<void> {
    await this.store.setJson(`client:${client.clientId}`, client, ttlSeconds > 0 ? { ttlSeconds } : {});
  }

  /**
   * Records that storage key `key` (a refresh-token family, a consent, a token record...) belongs to the
   * client, so that deleting the client (RFC 7592 DELETE) deletes it too. The index lives as long as the
   * longest-lived key tracked in it (`ttlSeconds` > 0: what is tracked must expire).
   */
  public async track(clientId: string, key: string, ttlSeconds: number): Promise<void> {
    const index = `client-keys:${clientId}`;
    const current = await this.store.ttl(index);
    await this.store.setAdd(index, [key], Math.max(current, ttlSeconds, 1));
  }

  /** Deletes the client and every key tracked for it: its grants and tokens end with it. */
  public async delete(clientId: string): Promise<void> {
    const index = `client-keys:${clientId}`;
    const keys = await this.store.setMembers(index);
    await this.store.delete(`client:${clientId}`, index, ...keys);
  }
}

/**
 * Seconds the client's storage key should live from now: until `expiresAt` (0 = no expiry), and, while no code
 * was ever redeemed, at most until `issuedAt + unusedLifetime` (docs/auth.md "Registration that cloud clients
 * survive"; 0 = unused clients are kept as long as used ones).
 */
export function clientTtl(client: ClientRecord, unusedLifetime: number, now = Math.floor(Date.now() / 1000)): number {
  const untilExpiry = client.expiresAt > 0 ? Math.max(1, client.expiresAt - now) : 0;
  if (client.usedAt !== undefined || unusedLifetime <= 0) return untilExpiry;
  const untilUnused = Math.max(1, client.issuedAt + unusedLifetime - now);
  return untilExpiry === 0 ? untilUnused : Math.min(untilExpiry, untilUnused);
}
