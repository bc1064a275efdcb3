import { Inject, Injectable, Logger } from '@nestjs/common';
import { type GatewayTopology, type ResolvedService, serviceForRequest } from '@gateway/catalog';
import { identityToHeaders } from '@gateway/contracts';
import { OAuthError, RESOURCE_SCOPES } from '@gateway/oauth';
import { counter } from '@gateway/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditLog, type AuditReasonCode } from '../../audit/audit-log';
import { sendOAuthError } from '../../http/oauth-exception.filter';
import { AccessPolicy } from '../../policy/access-policy';
import { RevokedTokens } from '../../store/revoked-tokens';
import { TOPOLOGY } from '../../config/topology.provider';
import { AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier';

/** Bearer credentials (RFC 6750 §2.1; the scheme name is case-insensitive, RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const decisions = counter('auth_verify_decisions_total', '/verify answers: allowed, or the OAuth error code', [
  'decision',
]);

/**
 * Traefik's ForwardAuth target (also Caddy's forward_auth): decides whether the request described by
 * X-Forwarded-Method/-Proto/-Host/-Uri may reach its MCP service. 200 with the identity headers, or the
 * RFC 6750 §3 challenge that MCP clients need to discover the authorization server (RFC 9728 §5.1).
 *
 * It is the hot path (every MCP request), so main.ts serves it as a plain Fastify route: no Nest router,
 * middleware or per-request logger (refusals are audited); errors go through the one OAuth serializer.
 */
@Injectable()
export class VerifyHandler {
  private readonly logger = new Logger(VerifyHandler.name);
  private readonly headersByToken = new WeakMap<VerifiedAccessToken, Record<string, string>>();
  private readonly services = new Map<string, ResolvedService | undefined>();

  public constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly revoked: RevokedTokens,
    private readonly policy: AccessPolicy,
    private readonly audit: AuditLog,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
  ) {}

  /** The Fastify handler of `/verify` (any method). */
  public async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      await reply
        .headers(await this.decide(request))
        .status(200)
        .send('');
      decisions.inc({ decision: 'allowed' });
    } catch (error) {
      decisions.inc({ decision: error instanceof OAuthError ? error.code : 'error' });
      sendOAuthError(error, request, reply);
    }
  }

  /** The identity headers of an allowed request; throws the OAuthError of a refused one. */
  private async decide(request: FastifyRequest): Promise<Record<string, string>> {
    const headers = request.headers;
    const host = single(headers['x-forwarded-host']) ?? single(headers.host) ?? '';
    const uri = single(headers['x-forwarded-uri']) ?? '/';
    const service = this.serviceFor(host, uri);
    if (!service) {
      this.audit.record('verify.refused', {
        reasonCode: 'no_service',
        reason: 'no enabled MCP service at this address',
        host: host.slice(0, 200),
        uri: uri.slice(0, 200),
      });
      throw new OAuthError('invalid_request', 'no enabled MCP service is served at this address', { status: 404 });
    }

    const authorization = single(headers.authorization);
    if (!authorization)
      throw this.refuse(service, 'token_missing', 401, 'invalid_token', 'an access token is required', {
        challenge: '',
      });
    const token = BEARER.exec(authorization)?.[1];
    if (!token)
      throw this.refuse(
        service,
        'malformed_authorization',
        401,
        'invalid_request',
        'the Authorization header must be "Bearer <token>"',
        {
          challenge: 'invalid_request',
        },
      );

    let claims: VerifiedAccessToken | undefined;
    try {
      claims = await this.verifier.verify(token);
      if (claims && (await this.revoked.isRevoked(claims.jti))) claims = undefined;
    } catch (error) {
      // Fail closed: without storage nothing can be checked for revocation (recovers when storage returns).
      this.logger.error({ err: error, service: service.name }, 'storage unavailable during /verify');
      this.audit.record('verify.refused', {
        reasonCode: 'storage_unavailable',
        service: service.name,
        reason: 'storage unavailable',
      });
      throw new OAuthError(
        'temporarily_unavailable',
        'the authorization server cannot check tokens right now; retry shortly',
        { status: 503, headers: { 'retry-after': '1' } },
      );
    }
    if (!claims)
      throw this.refuse(
        service,
        'token_invalid',
        401,
        'invalid_token',
        'the access token is invalid, expired or revoked',
        {
          challenge: 'invalid_token',
        },
      );
    // RFC 8707 §2 / RFC 9068 §4: a token minted for another service is not valid here (docs/security.md).
    if (claims.aud !== service.mcpUrl) {
      throw this.refuse(
        service,
        'audience_mismatch',
        401,
        'invalid_token',
        'the access token was issued for another resource',
        {
          challenge: 'invalid_token',
          claims,
        },
      );
    }
    const granted = claims.scope.split(' ');
    if (!RESOURCE_SCOPES.every((scope) => granted.includes(scope))) {
      throw this.refuse(
        service,
        'insufficient_scope',
        403,
        'insufficient_scope',
        `the access token lacks the scope ${RESOURCE_SCOPES.join(' ')}`,
        { challenge: 'insufficient_scope', claims },
      );
    }
    const decision = this.policy.check(claims.user, service);
    if (!decision.allowed)
      throw this.refuse(service, 'policy_denied', 403, 'access_denied', 'this user may not use this service', {
        claims,
        reason: decision.reason,
      });

    return this.identityHeaders(claims);
  }

  /** The identity headers of a verified token, built once per cached token. */
  private identityHeaders(claims: VerifiedAccessToken): Record<string, string> {
    let headers = this.headersByToken.get(claims);
    if (!headers) {
      headers = identityToHeaders({
        userId: claims.sub,
        userName: claims.user.login,
        userEmail: claims.user.email,
        clientId: claims.clientId,
        scope: claims.scope,
      });
      this.headersByToken.set(claims, headers);
    }
    return headers;
  }

  /**
   * The catalog service of a forwarded request. Only the host and the first path segment decide, so the
   * answer is memoised by them (bounded: hosts come from clients).
   */
  private serviceFor(host: string, uri: string): ResolvedService | undefined {
    const path = uri.split('?', 1)[0] ?? '';
    const firstSegment = /^\/[^/]*/.exec(path)?.[0] ?? '/';
    const key = `${host}\n${firstSegment}`;
    if (this.services.has(key)) return this.services.get(key);
    const service = serviceForRequest(this.topology, host, path === firstSegment ? path : `${firstSegment}/`);
    if (this.services.size >= 1_000) this.services.clear();
    this.services.set(key, service);
    return service;
  }

  /** The refusal with its RFC 6750 §3 challenge (no `error` attribute when no token was sent, §3.1). */
  private refuse(
    service: ResolvedService,
    reasonCode: AuditReasonCode,
    status: 401 | 403,
    code: 'invalid_token' | 'invalid_request' | 'insufficient_scope' | 'access_denied',
    description: string,
    options: { challenge?: string; claims?: VerifiedAccessToken; reason?: string },
  ): OAuthError {
    const { challenge, claims } = options;
    this.audit.record('verify.refused', {
      reasonCode,
      user: claims?.sub,
      client: claims?.clientId,
      service: service.name,
      reason: options.reason ?? description,
    });
    const params = [
      ...(challenge ? [`error="${challenge}"`, `error_description="${description}"`] : []),
      ...(challenge === 'insufficient_scope' || challenge === '' ? [`scope="${RESOURCE_SCOPES.join(' ')}"`] : []),
      `resource_metadata="${service.resourceMetadataUrl}"`,
    ];
    const headers = challenge === undefined ? undefined : { 'www-authenticate': `Bearer ${params.join(', ')}` };
    return new OAuthError(code, description, { status, ...(headers ? { headers } : {}) });
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
