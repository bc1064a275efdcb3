import { Injectable } from '@nestjs/common';
import { AuthEnv } from '../config/auth.env';
import { ClientStore } from '../store/client.store';
import type { ClientRecord } from '../store/records';
import { ClientMetadataDocuments, isMetadataDocumentUrl } from './client-metadata-documents';

/**
 * Where a client_id is looked up: an https URL is a Client ID Metadata Document (resolved, never stored);
 * anything else is a registered client (RFC 7591). The one lookup /authorize, /consent and client
 * authentication use.
 */
@Injectable()
export class ClientDirectory {
  public constructor(
    private readonly registered: ClientStore,
    private readonly documents: ClientMetadataDocuments,
    private readonly env: AuthEnv,
  ) {}

  /** The client, undefined when unknown; throws `ClientDocumentUnavailable` when its document cannot be had. */
  public async find(clientId: string): Promise<ClientRecord | undefined> {
    if (this.env.CLIENT_METADATA_DOCUMENTS && isMetadataDocumentUrl(clientId)) return this.documents.resolve(clientId);
    return this.registered.get(clientId);
  }
}
