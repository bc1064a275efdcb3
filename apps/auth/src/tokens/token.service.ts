import { Inject, Injectable } from '@nestjs/common';
import { type GatewayTopology, type ResolvedService, serviceForResource } from '@gateway/catalog';
import { OAuthError, parseScope, verifyS256, withBaseScope } from '@gateway/oauth';
import { AuditLog, type AuditReasonCode } from '../audit/audit-log';
import { AccessPolicy } from '../policy/access-policy';
import { AuthorizationCodes } from '../store/authorization-codes';
import { ClientStore } from '../store/client.store';
import { AuthEnv } from '../config/auth.env';
import { type ClientRecord, type UserIdentity } from '../store/records';
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

/** The grants of POST /token: authorization_code (with PKCE) and refresh_token. */
@Injectable()
export class TokenService {
  public constructor(
    private readonly codes: AuthorizationCodes,
    private readonly families: TokenFamilies,
    private readonly issuer: AccessTokenIssuer,
    private readonly policy: AccessPolicy,
    private readonly audit: AuditLog,
    private readonly clients: ClientStore,
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
    const redemption = await this.codes.redeem(code);
    if (redemption.kind === 'replayed') {
      this.refuse(client, 'code_replayed', 'authorization code reused: its tokens were revoked', {
        families: redemption.revokedFamilies.join(' '),
      });
    }
    if (redemption.kind !== 'redeemed')
      throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used');
    const { record } = redemption;
    const refuse = (reasonCode: AuditReasonCode, description: string): never =>
      this.refuse(client, reasonCode, description, { user: record.user.sub });
    // RFC 6749 §4.1.3: the code belongs to the client it was issued to.
    if (record.clientId !== client.clientId)
      refuse('client_mismatch', 'the authorization code was issued to another client');
    if (redemption.expired) refuse('code_expired', 'the authorization code has expired');
    if (record.redirectUri !== redirectUri)
      refuse('redirect_uri_mismatch', 'redirect_uri does not match the one sent to /authorize');
    if (record.codeChallengeMethod !== 'S256' || !verifyS256(verifier, record.codeChallenge))
      refuse('pkce_failed', 'PKCE verification failed (code_verifier)');
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
    await this.clients.markUsed(client, this.env.UNUSED_CLIENT_LIFETIME);
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
    // Bound only once its tokens exist, so revoking the family reaches them. This is the code's first use, so it
    // gets its answer; a replay that raced it is refused and, RFC 6749 §4.1.2, what this one issued is revoked.
    if (!(await redemption.bindFamily(familyId))) {
      this.audit.record('family.revoked', {
        reasonCode: 'code_replayed',
        reason: 'the authorization code was replayed while it was redeemed',
        user: record.user.sub,
        client: client.clientId,
        family: familyId,
      });
    }
    return response;
  }

  /** RFC 6749 §6: rotation, client binding, policy re-check, scope can only shrink. */
  private async refresh(client: ClientRecord, request: TokenRequest): Promise<TokenResponse> {
    if (!request.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
    const outcome = await this.families.rotate(request.refresh_token, client.clientId);
    switch (outcome.kind) {
      case 'unknown':
        return this.refuse(client, 'refresh_token_unknown', 'the refresh token is invalid, expired or revoked');
      case 'other-client':
        return this.refuse(client, 'client_mismatch', 'the refresh token was issued to another client');
      case 'reused':
        // RFC 9700 §4.14.2: reuse of a rotated refresh token means it leaked; revoke the family.
        await this.families.revoke(outcome.familyId);
        return this.refuse(
          client,
          'refresh_token_reused',
          'the refresh token was already used; every token of this grant is now revoked',
          {
            family: outcome.familyId,
          },
        );
    }
    const { family, familyId } = outcome;
    const service = this.resourceOf(request, family.resource, client, family.user.sub);
    const decision = this.policy.check(family.user, service);
    if (!decision.allowed) {
      await this.families.revoke(familyId);
      this.refuse(client, 'policy_denied', 'the user is no longer allowed to use this service', {
        user: family.user.sub,
        policy: decision.reason,
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
      return this.refuse(
        client,
        'service_unavailable',
        'the service this grant is for is no longer available',
        { user },
        'invalid_target',
      );
    if (requested[0] !== undefined && serviceForResource(this.topology, requested[0]) !== service) {
      return this.refuse(
        client,
        'resource_mismatch',
        `resource must be ${service.mcpUrl}, the one authorized`,
        { user },
        'invalid_target',
      );
    }
    return service;
  }

  private checkPolicy(client: ClientRecord, user: UserIdentity, service: ResolvedService): void {
    const decision = this.policy.check(user, service);
    if (!decision.allowed)
      this.refuse(client, 'policy_denied', 'the user is not allowed to use this service', {
        user: user.sub,
        policy: decision.reason,
      });
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
    reasonCode: AuditReasonCode,
    description: string,
    fields: Record<string, string> = {},
    code: 'invalid_grant' | 'invalid_target' = 'invalid_grant',
  ): never {
    this.audit.record('token.refused', { reasonCode, client: client.clientId, reason: description, ...fields });
    throw new OAuthError(code, description);
  }
}

/**
 * RFC 6749 §6: a refresh may ask for less than was granted, never more. Unknown scopes are dropped (RFC 6749
 * §3.3) and the base scope stays, so the narrowed token is still usable.
 */
function narrowScope(requested: string | undefined, granted: string): string {
  if (requested === undefined) return granted;
  const grantedSet = new Set(granted.split(' ').filter(Boolean));
  // The service scopes granted are known here; others are dropped like any unknown scope (step-up re-authorizes).
  const wanted = parseScope(requested, 'invalid_scope', [...grantedSet]);
  const extra = wanted.filter((scope) => !grantedSet.has(scope));
  if (extra.length > 0)
    throw new OAuthError('invalid_scope', `scope can only shrink on refresh; not granted: ${extra.join(' ')}`);
  return withBaseScope(wanted);
}
