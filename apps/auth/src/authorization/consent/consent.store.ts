import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import { AuthEnv } from '../../config/auth.env';
import type { AuthorizationRequest } from '../authorization-request';
import { ClientStore } from '../../store/client.store';
import { hashSecret, type UserIdentity } from '../../store/records';

/**
 * Remembered consent (MCP authorization "Confused Deputy": per-client consent for dynamically registered
 * clients). Key `consent:{sha256(sub)}:{client_id}` = set of granted scopes plus `resource:<mcp url>`;
 * a returning client is asked again only when it wants a scope or a service it was not granted.
 * Tracked in `client-keys:{client_id}`, so it ends with the client.
 */
@Injectable()
export class ConsentStore {
  private readonly lifetime: number;

  public constructor(
    private readonly store: KeyValueStore,
    private readonly clients: ClientStore,
    env: AuthEnv,
  ) {
    this.lifetime = env.CONSENT_LIFETIME;
  }

  public async isGranted(user: UserIdentity, request: AuthorizationRequest): Promise<boolean> {
    if (this.lifetime === 0) return false;
    const granted = new Set(await this.store.setMembers(key(user, request.clientId)));
    return grantOf(request).every((member) => granted.has(member));
  }

  public async remember(user: UserIdentity, request: AuthorizationRequest): Promise<void> {
    if (this.lifetime === 0) return;
    const consentKey = key(user, request.clientId);
    await this.store.setAdd(consentKey, grantOf(request), this.lifetime);
    // Deleting the client (RFC 7592 DELETE) forgets its consents too.
    await this.clients.track(request.clientId, consentKey, this.lifetime);
  }
}

function key(user: UserIdentity, clientId: string): string {
  return `consent:${hashSecret(user.sub)}:${clientId}`;
}

function grantOf(request: AuthorizationRequest): string[] {
  return [...request.scope.split(' ').filter(Boolean), `resource:${request.resource}`];
}
