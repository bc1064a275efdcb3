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

  /** The scopes of `request` this user already consented to for this client (the consent page asks for the rest). */
  public async consentedScopes(user: UserIdentity, request: AuthorizationRequest): Promise<string[]> {
    if (this.lifetime === 0) return [];
    const granted = new Set(await this.store.setMembers(key(user, request.clientId)));
    if (!granted.has(`resource:${request.resource}`)) return [];
    return request.scope.split(' ').filter((scope) => scope && granted.has(scope));
  }

  public async remember(user: UserIdentity, request: AuthorizationRequest): Promise<void> {
    if (this.lifetime === 0) return;
    const consentKey = key(user, request.clientId);
    await this.store.setAdd(consentKey, grantOf(request), this.lifetime);
    // Deleting the client (RFC 7592 DELETE) forgets its consents too.
    await this.clients.track(request.clientId, consentKey, this.lifetime);
  }

  /**
   * RFC 9700 §4.11.2: remembers that the person in this browser approved this client and redirect URI (a code
   * was issued there), so that later errors raised before they act may go back to it automatically.
   * Key `approved-redirect:{sha256(browser, client_id, redirect_uri)}`, same lifetime as consent, ends with the client.
   */
  public async approveRedirect(browser: string, clientId: string, redirectUri: string): Promise<void> {
    if (this.lifetime === 0) return;
    const approvedKey = redirectKey(browser, clientId, redirectUri);
    await this.store.set(approvedKey, '1', { ttlSeconds: this.lifetime });
    await this.clients.track(clientId, approvedKey, this.lifetime);
  }

  public async isRedirectApproved(
    browser: string | undefined,
    clientId: string,
    redirectUri: string,
  ): Promise<boolean> {
    if (!browser) return false;
    return (await this.store.get(redirectKey(browser, clientId, redirectUri))) !== null;
  }
}

function redirectKey(browser: string, clientId: string, redirectUri: string): string {
  return `approved-redirect:${hashSecret(`${browser}\0${clientId}\0${redirectUri}`)}`;
}

function key(user: UserIdentity, clientId: string): string {
  return `consent:${hashSecret(user.sub)}:${clientId}`;
}

function grantOf(request: AuthorizationRequest): string[] {
  return [...request.scope.split(' ').filter(Boolean), `resource:${request.resource}`];
}
