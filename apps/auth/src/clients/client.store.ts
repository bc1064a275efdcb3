import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import type { ClientRecord } from '../store/records';

/** Registered clients (`client:{client_id}`, see store/storage-schema.md). */
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

  public async delete(clientId: string): Promise<void> {
    await this.store.delete(`client:${clientId}`);
  }
}
