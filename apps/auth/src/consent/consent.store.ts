import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import { AuthEnv } from '../auth.env';
import type { AuthorizationRequest } from '../authorize/authorization-request';
import { hashSecret, type UserIdentity } from '../store/records';

/**
 * Remembered consent (MCP authorization "Confused Deputy": per-client consent for dynamically registered
 * clients). Key `consent:{sha256(sub)}:{client_id}` = set of granted scopes plus `resource:<mcp url>`;
 * a returning client is asked again only when it wants a scope or a service it was not granted.
 */
@Injectable()
export class ConsentStore {
  private readonly lifetime: number;

  public constructor(
    private readonly store: KeyValueStore,
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
    await this.store.setAdd(key(user, request.clientId), grantOf(request), this.lifetime);
  }
}

function key(user: UserIdentity, clientId: string): string {
  return `consent:${hashSecret(user.sub)}:${clientId}`;
}

function grantOf(request: AuthorizationRequest): string[] {
  return [...request.scope.split(' ').filter(Boolean), `resource:${request.resource}`];
}
