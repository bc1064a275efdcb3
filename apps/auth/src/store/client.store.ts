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
