import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import type { AuthorizationRequest } from '../authorization-request';
import { hashSecret, type UserIdentity } from '../../store/records';

/** Upstream `state` lives ≤ 10 minutes (RFC 9700 §4.7). */
export const LOGIN_STATE_LIFETIME = 600;

/** Key `login:{sha256(state)}`: an authorization request waiting for the upstream login. */
export interface PendingLogin {
  readonly request: AuthorizationRequest;
  /** SHA-256 of the browser cookie that started it (the state is bound to the browser). */
  readonly browser: string;
  /** What the provider must remember across the redirect (OIDC PKCE verifier and nonce). */
  readonly upstream?: Readonly<Record<string, string>>;
}

/** Key `consent-request:{sha256(id)}`: a logged-in user's request waiting for the consent decision. */
export interface PendingConsent {
  readonly request: AuthorizationRequest;
  readonly browser: string;
  readonly user: UserIdentity;
  /** The consent form's CSRF token (synchroniser token, compared in constant time). */
  readonly csrf: string;
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Single-use, short-lived login and consent state (store/storage-schema.md). */
@Injectable()
export class LoginStateStore {
  public constructor(private readonly store: KeyValueStore) {}

  /** Saves a pending login; returns the random upstream `state`. */
  public async saveLogin(pending: PendingLogin, state = randomToken()): Promise<string> {
    await this.store.setJson(`login:${hashSecret(state)}`, pending, { ttlSeconds: LOGIN_STATE_LIFETIME });
    return state;
  }

  public async peekLogin(state: string): Promise<PendingLogin | null> {
    return state ? this.store.getJson<PendingLogin>(`login:${hashSecret(state)}`) : null;
  }

  /** Single use: of concurrent callbacks with one state, exactly one gets it. */
  public async takeLogin(state: string): Promise<PendingLogin | null> {
    return state ? this.store.takeJson<PendingLogin>(`login:${hashSecret(state)}`) : null;
  }

  public async saveConsent(pending: PendingConsent): Promise<string> {
    const id = randomToken();
    await this.store.setJson(`consent-request:${hashSecret(id)}`, pending, { ttlSeconds: LOGIN_STATE_LIFETIME });
    return id;
  }

  public async peekConsent(id: string): Promise<PendingConsent | null> {
    return id ? this.store.getJson<PendingConsent>(`consent-request:${hashSecret(id)}`) : null;
  }

  public async takeConsent(id: string): Promise<PendingConsent | null> {
    return id ? this.store.takeJson<PendingConsent>(`consent-request:${hashSecret(id)}`) : null;
  }
}
