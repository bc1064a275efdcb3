import { Inject, Injectable } from '@nestjs/common';
import { type GatewayTopology, type ResolvedService, serviceForResource } from '@gateway/catalog';
import { OAuthError, parseScope, verifyS256 } from '@gateway/oauth';
import { KeyValueStore } from '@gateway/storage';
import { AuditLog } from '../audit/audit-log';
import { AuthEnv } from '../config/auth.env';
import { AccessPolicy } from '../policy/access-policy';
import { type AuthorizationCodeRecord, type ClientRecord, hashSecret, type UserIdentity } from '../store/records';
import { TOPOLOGY } from '../config/topology.provider';
import { AccessTokenIssuer } from './access-token-issuer';
import { TokenFamilies, type TokenFamily } from '../store/token-families';

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly scope: string;
}

export interface TokenRequest {
  readonly grant_type?: string;
  readonly code?: string;
  readonly redirect_uri?: string;
  readonly code_verifier?: string;
  readonly refresh_token?: string;
  readonly scope?: string;
  readonly resource?: string | string[];
}

/** RFC 6749 §4.1.2: a code lives at most 10 minutes, whatever the store's TTL says (anchor §8.1 #4). */
const CODE_MAX_AGE_SECONDS = 600;
/** Members of `code-used:{hash}` besides family ids (which are base64url and never these words). */
const CODE_TAKEN = 'taken';
const CODE_REUSED = 'reused';

/** The grants of POST /token: authorization_code (with PKCE) and refresh_token. */
@Injectable()
export class TokenService {
  public constructor(
    private readonly store: KeyValueStore,
    private readonly families: TokenFamilies,
    private readonly issuer: AccessTokenIssuer,
    private readonly policy: AccessPolicy,
    private readonly audit: AuditLog,
    private readonly env: AuthEnv,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  public async grant(client: ClientRecord, request: TokenRequest): Promise<TokenResponse> {
    switch (request.grant_type) {
      case 'authorization_code':
        this.requireGrantType(client, 'authorization_code');
        return this.redeemCode(client, request);
      case 'refresh_token':
        this.requireGrantType(client, 'refresh_token');
        return this.refresh(client, request);
      case undefined:
      case '':
        throw new OAuthError('invalid_request', 'grant_type is required');
      default:
        throw new OAuthError(
          'unsupported_grant_type',
          `grant_type ${JSON.stringify(request.grant_type.slice(0, 60))} is not supported; use authorization_code or refresh_token`,
        );
    }
  }

  private requireGrantType(client: ClientRecord, grant: 'authorization_code' | 'refresh_token'): void {
    if (!client.metadata.grant_types.includes(grant))
      throw new OAuthError('unauthorized_client', `this client is not registered for the ${grant} grant`);
  }

  /** RFC 6749 §4.1.3 with RFC 7636 §4.5-4.6 and RFC 8707 §2.2. */
  private async redeemCode(client: ClientRecord, request: TokenRequest): Promise<TokenResponse> {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = request;
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required (the one sent to /authorize)');
    if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE, RFC 7636)');
    const codeHash = hashSecret(code);
    // Mark the code redeemed before taking it, so that a replay losing the take below always finds the mark.
    if ((await this.store.get(`code:${codeHash}`)) !== null)
      await this.store.setAdd(`code-used:${codeHash}`, [CODE_TAKEN], this.env.REFRESH_TOKEN_LIFETIME);
    // Atomic single use (GETDEL): of concurrent redemptions exactly one gets the record.
    const record = await this.store.takeJson<AuthorizationCodeRecord>(`code:${codeHash}`);
    if (!record) {
      await this.onReplay(client, codeHash);
      throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used');
    }
    const refuse = (description: string): never => this.refuse(client, description, { user: record.user.sub });
    // Anchor §8.1 #2: the code belongs to the client it was issued to.
    if (record.clientId !== client.clientId) refuse('the authorization code was issued to another client');
    if (Math.floor(Date.now() / 1000) - record.issuedAt > CODE_MAX_AGE_SECONDS)
      refuse('the authorization code has expired');
    if (record.redirectUri !== redirectUri) refuse('redirect_uri does not match the one sent to /authorize');
    if (record.codeChallengeMethod !== 'S256' || !verifyS256(verifier, record.codeChallenge))
      refuse('PKCE verification failed (code_verifier)');
    const service = this.resourceOf(request, record.resource, client, record.user.sub);
    this.checkPolicy(client, record.user, service);

    const family: TokenFamily = {
      clientId: client.clientId,
      user: record.user,
      resource: service.mcpUrl,
      scope: record.scope,
      createdAt: Math.floor(Date.now() / 1000),
    };
    const familyId = await this.families.create(family);
    // A replay that raced this redemption marked the code `reused` before our family was visible: revoke it.
    if ((await this.markCode(codeHash, familyId)).includes(CODE_REUSED)) {
      await this.families.revoke(familyId);
      refuse('authorization code reused: its tokens were revoked');
    }
    const response = await this.respond(
      client,
      family,
      familyId,
      record.scope,
      await this.refreshTokenFor(client, familyId),
    );
    this.audit.record('token.issued', {
      user: record.user.sub,
      client: client.clientId,
      service: service.name,
      grant: 'authorization_code',
      family: familyId,
    });
    return response;
  }

  /**
   * `code-used:{hash}` is a set: `taken` once redeemed, then the id of the family issued from it, and
   * `reused` once replayed. Both sides add, then read, so whichever comes second sees the other (no lost race).
   * Returns the members after the add.
   */
  private async markCode(codeHash: string, member: string): Promise<string[]> {
    const key = `code-used:${codeHash}`;
    await this.store.setAdd(key, [member], this.env.REFRESH_TOKEN_LIFETIME);
    return this.store.setMembers(key);
  }

  /** RFC 6749 §4.1.2: a code presented again revokes every token issued from it. */
  private async onReplay(client: ClientRecord, codeHash: string): Promise<void> {
    // Only codes that were redeemed here have a set; a guessed code writes nothing.
    if ((await this.store.setMembers(`code-used:${codeHash}`)).length === 0) return;
    const families = (await this.markCode(codeHash, CODE_REUSED)).filter(
      (member) => member !== CODE_TAKEN && member !== CODE_REUSED,
    );
    await Promise.all(families.map((familyId) => this.families.revoke(familyId)));
    this.refuse(client, 'authorization code reused: its tokens were revoked', { families: families.join(' ') });
  }

  /** RFC 6749 §6: rotation, client binding, policy re-check, scope can only shrink. */
  private async refresh(client: ClientRecord, request: TokenRequest): Promise<TokenResponse> {
    if (!request.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
    const outcome = await this.families.rotate(request.refresh_token, client.clientId);
    switch (outcome.kind) {
      case 'unknown':
        return this.refuse(client, 'the refresh token is invalid, expired or revoked');
      case 'other-client':
        return this.refuse(client, 'the refresh token was issued to another client');
      case 'reused':
        // RFC 9700 §4.14.2: reuse of a rotated refresh token means it leaked; revoke the family.
        await this.families.revoke(outcome.familyId);
        return this.refuse(client, 'the refresh token was already used; every token of this grant is now revoked', {
          family: outcome.familyId,
        });
    }
    const { family, familyId } = outcome;
    const service = this.resourceOf(request, family.resource, client, family.user.sub);
    const decision = this.policy.check(family.user, service);
    if (!decision.allowed) {
      await this.families.revoke(familyId);
      this.refuse(client, 'the user is no longer allowed to use this service', {
        user: family.user.sub,
        reason: decision.reason,
      });
    }
    const scope = narrowScope(request.scope, family.scope);
    const response = await this.respond(client, family, familyId, scope, outcome.refreshToken);
    this.audit.record('token.refreshed', {
      user: family.user.sub,
      client: client.clientId,
      service: service.name,
      family: familyId,
      grace: outcome.kind === 'grace',
    });
    return response;
  }

  /** RFC 8707 §2.2: `resource` at /token, when sent, must name the resource the grant is for. */
  private resourceOf(request: TokenRequest, granted: string, client: ClientRecord, user: string): ResolvedService {
    const requested = Array.isArray(request.resource)
      ? request.resource
      : request.resource === undefined
        ? []
        : [request.resource];
    if (requested.length > 1) throw new OAuthError('invalid_target', 'send one resource per token request');
    const service = serviceForResource(this.topology, granted);
    if (!service)
      return this.refuse(client, 'the service this grant is for is no longer available', { user }, 'invalid_target');
    if (requested[0] !== undefined && serviceForResource(this.topology, requested[0]) !== service) {
      return this.refuse(client, `resource must be ${service.mcpUrl}, the one authorized`, { user }, 'invalid_target');
    }
    return service;
  }

  private checkPolicy(client: ClientRecord, user: UserIdentity, service: ResolvedService): void {
    const decision = this.policy.check(user, service);
    if (!decision.allowed)
      this.refuse(client, 'the user is not allowed to use this service', { user: user.sub, reason: decision.reason });
  }

  private async refreshTokenFor(client: ClientRecord, familyId: string): Promise<string | undefined> {
    return client.metadata.grant_types.includes('refresh_token')
      ? this.families.issueRefreshToken(familyId, client.clientId)
      : undefined;
  }

  private async respond(
    client: ClientRecord,
    family: TokenFamily,
    familyId: string,
    scope: string,
    refreshToken: string | undefined,
  ): Promise<TokenResponse> {
    const access = await this.issuer.issue({
      user: family.user,
      clientId: client.clientId,
      resource: family.resource,
      scope,
      familyId,
    });
    await this.families.addAccessToken(familyId, access.jti);
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope,
    };
  }

  private refuse(
    client: ClientRecord,
    description: string,
    fields: Record<string, string> = {},
    code: 'invalid_grant' | 'invalid_target' = 'invalid_grant',
  ): never {
    this.audit.record('token.refused', { client: client.clientId, reason: description, ...fields });
    throw new OAuthError(code, description);
  }
}

/** RFC 6749 §6: a refresh may ask for less than was granted, never more. */
function narrowScope(requested: string | undefined, granted: string): string {
  if (requested === undefined) return granted;
  const grantedSet = new Set(granted.split(' ').filter(Boolean));
  const wanted = parseScope(requested);
  const extra = wanted.filter((scope) => !grantedSet.has(scope));
  if (extra.length > 0)
    throw new OAuthError('invalid_scope', `scope can only shrink on refresh; not granted: ${extra.join(' ')}`);
  return wanted.join(' ');
}
