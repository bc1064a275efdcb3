import { performance } from 'node:perf_hooks';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  BASE_SCOPE,
  type GatewayTopology,
  grantableScopes,
  requiredScope,
  type ResolvedService,
  serviceForRequest,
  stepUpScope,
} from '@gateway/catalog';
import { identityToHeaders } from '@gateway/contracts';
import { OAuthError } from '@gateway/oauth';
import { auditStream, counter } from '@gateway/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditLog, type AuditReasonCode } from '../../audit/audit-log';
import { CORS_ON_ROUTER_ERRORS } from '../../http/http-policy';
import { sendOAuthError } from '../../http/oauth-exception.filter';
import { AccessPolicy } from '../../policy/access-policy';
import { RevokedTokens } from '../../store/revoked-tokens';
import { AuthEnv } from '../../config/auth.env';
import { TOPOLOGY } from '../../config/topology.provider';
import { AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier';

/** Bearer credentials (RFC 6750 §2.1; the scheme name is case-insensitive, RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const decisions = counter('auth_verify_decisions_total', '/verify answers: allowed, or the OAuth error code', [
  'decision',
]);
/** What the fast path answers besides the identity headers: what the Fastify route's 200 carries. */
const FAST_PATH_HEADERS: Record<string, string> = {
  ...CORS_ON_ROUTER_ERRORS,
  'content-type': 'text/plain; charset=utf-8',
  'content-length': '0',
};

/** Per verified token: its identity headers, the fast path's raw header list, its scopes. */
interface TokenAnswer {
  readonly headers: Record<string, string>;
  readonly rawHeaders: string[];
  readonly granted: ReadonlySet<string>;
  /** The service scopes the policy lets this user be granted (docs/authorization.md). */
  readonly grantable: ReadonlySet<string>;
}

/**
 * Traefik's ForwardAuth target (also Caddy's forward_auth): decides whether the request described by
 * X-Forwarded-Method/-Proto/-Host/-Uri may reach its MCP service. 200 with the identity headers, or the
 * RFC 6750 §3 challenge that MCP clients need to discover the authorization server (RFC 9728 §5.1).
 *
 * It is the hot path (every MCP request). main.ts hands each request to `answerFromMemory` first (before
 * Fastify), which answers only what memory alone allows; everything else reaches `handle`, a plain Fastify
 * route: no Nest router, middleware or per-request logger (refusals are audited); errors go through the one
 * OAuth serializer.
 */
@Injectable()
export class VerifyHandler {
  private readonly logger = new Logger(VerifyHandler.name);
  private readonly answers = new WeakMap<VerifiedAccessToken, TokenAnswer>();
  private readonly services = new Map<string, ResolvedService | undefined>();
  private readonly byAddress = new Map<string, ResolvedService | undefined>();
  /** The services' audit stream: a 2026-07-28 tool call refused here never reaches its service (docs/authorization.md). */
  private readonly toolAudit: ReturnType<typeof auditStream>;

  public constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly revoked: RevokedTokens,
    private readonly policy: AccessPolicy,
    private readonly audit: AuditLog,
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
    env: AuthEnv,
  ) {
    this.toolAudit = auditStream(env.AUDIT_LOG_FILE);
  }

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

  /**
   * The fast path, on the Node.js request before Fastify (main.ts `serverFactory`): answers 200 when the
   * request is allowed from memory alone (token in the verified-token cache, revocation state known in
   * memory, audience, scope and policy pass) and returns true. Otherwise it writes nothing and returns false:
   * the Fastify route then decides, refuses and audits as usual. It has no side effect, so every refusal is
   * still made (and audited) in one place.
   */
  public answerFromMemory(request: IncomingMessage, response: ServerResponse): boolean {
    const headers = request.headers;
    // Traefik sends no body; anything with one (or a CORS preflight) takes the full path.
    if (request.method === 'OPTIONS' || headers['transfer-encoding'] !== undefined) return false;
    if (headers['content-length'] !== undefined && headers['content-length'] !== '0') return false;
    const service = this.serviceFor(
      single(headers['x-forwarded-host']) ?? single(headers.host) ?? '',
      single(headers['x-forwarded-uri']) ?? '/',
    );
    const token = service && BEARER.exec(single(headers.authorization) ?? '')?.[1];
    const claims = token ? this.verifier.cached(token) : undefined;
    if (!service || !claims || this.revoked.revokedLocally(claims.jti) !== false) return false;
    if (claims.aud !== service.mcpUrl) return false;
    const answer = this.answerFor(claims, service);
    if (!answer.granted.has(BASE_SCOPE) || this.missingScope(headers, service, answer)) return false;
    if (!this.policy.check(claims.user, service).allowed) return false;
    decisions.inc({ decision: 'allowed' });
    response.writeHead(200, answer.rawHeaders);
    response.end();
    return true;
  }

  /** The identity headers of an allowed request; throws the OAuthError of a refused one. */
  private async decide(request: FastifyRequest): Promise<Record<string, string>> {
    const started = performance.now();
    const headers: IncomingHttpHeaders = request.headers;
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
      // From the replica's in-memory copy of revoked ids when it is current, else one storage read.
      if (claims && (this.revoked.revokedLocally(claims.jti) ?? (await this.revoked.isRevoked(claims.jti))))
        claims = undefined;
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
    const answer = this.answerFor(claims, service);
    const missing = answer.granted.has(BASE_SCOPE) ? this.missingScope(headers, service, answer) : BASE_SCOPE;
    if (missing) {
      // A tool's own scope (not the base scope): the call is audited on the services' stream too.
      const method = single(headers['mcp-method']);
      if (method !== undefined && missing !== BASE_SCOPE)
        this.toolAudit.toolCall({
          user: claims.sub,
          client: claims.clientId,
          service: service.name,
          tool: single(headers['mcp-name']) ?? '',
          method,
          era: 'modern',
          decision: 'refused',
          reason: 'insufficient_scope',
          scope: missing,
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
        });
      throw this.refuse(
        service,
        'insufficient_scope',
        403,
        'insufficient_scope',
        `this request needs the scope ${missing}`,
        { challenge: 'insufficient_scope', claims, scope: stepUpScope(answer.granted, [missing]) },
      );
    }
    const decision = this.policy.check(claims.user, service);
    if (!decision.allowed)
      throw this.refuse(service, 'policy_denied', 403, 'access_denied', 'this user may not use this service', {
        claims,
        reason: decision.reason,
      });

    return answer.headers;
  }

  /**
   * MCP 2026-07-28 requests name their method and tool in `Mcp-Method` / `Mcp-Name` (ForwardAuth sees headers
   * only; the service checks they agree with the body): the scope the policy asks for it and the token lacks,
   * when the user may be granted it (step-up). A scope the user may never get is not asked for: the service
   * answers such a tool as unknown (docs/authorization.md). 2025-era requests are decided in-path by the service.
   */
  private missingScope(
    headers: IncomingHttpHeaders,
    service: ResolvedService,
    answer: TokenAnswer,
  ): string | undefined {
    const method = single(headers['mcp-method']);
    if (method === undefined) return undefined;
    const needed = requiredScope(service.policy, { method, name: single(headers['mcp-name']) });
    if (needed === undefined || answer.granted.has(needed) || !answer.grantable.has(needed)) return undefined;
    return needed;
  }

  /** What the answer to a verified token for `service` (its audience) needs, built once per cached token. */
  private answerFor(claims: VerifiedAccessToken, service: ResolvedService): TokenAnswer {
    let answer = this.answers.get(claims);
    if (!answer) {
      const grantable = grantableScopes(service.policy, claims.user);
      // A service scope the policy no longer grants this user stops working now, not when the token family ends.
      const granted = claims.scope
        .split(' ')
        .filter((scope) => !service.policy.scopes.has(scope) || grantable.includes(scope));
      const headers = identityToHeaders({
        userId: claims.sub,
        userName: claims.user.login,
        userEmail: claims.user.email,
        clientId: claims.clientId,
        scope: granted.join(' '),
        grantableScope: [BASE_SCOPE, ...grantable].join(' '),
      });
      answer = {
        headers,
        rawHeaders: Object.entries({ ...FAST_PATH_HEADERS, ...headers }).flat(),
        granted: new Set(granted),
        grantable: new Set(grantable),
      };
      this.answers.set(claims, answer);
    }
    return answer;
  }

  /**
   * The catalog service of a forwarded request. Only the host and the first path segment decide, so the
   * answer is memoised by them (bounded: hosts come from clients).
   */
  private serviceFor(host: string, uri: string): ResolvedService | undefined {
    // First by the exact address (the usual case: a client calls one MCP URL), then by its first segment.
    const address = `${host}\n${uri}`;
    const known = this.byAddress.get(address);
    if (known !== undefined || this.byAddress.has(address)) return known;
    const found = this.serviceBySegment(host, uri);
    if (this.byAddress.size >= 1_000) this.byAddress.clear();
    this.byAddress.set(address, found);
    return found;
  }

  private serviceBySegment(host: string, uri: string): ResolvedService | undefined {
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
    options: { challenge?: string; claims?: VerifiedAccessToken; reason?: string; scope?: string },
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
      // MCP 2025-11-25 authorization "Scope Challenge Handling": a 401 names the scopes to ask for first, a 403
      // insufficient_scope every scope the request needs (RFC 6750 §3.1), so a client re-authorizes for the union.
      ...(challenge === '' ? [`scope="${service.policy.initialScopes.join(' ')}"`] : []),
      ...(challenge === 'insufficient_scope' && options.scope ? [`scope="${options.scope}"`] : []),
      `resource_metadata="${service.resourceMetadataUrl}"`,
    ];
    const headers = challenge === undefined ? undefined : { 'www-authenticate': `Bearer ${params.join(', ')}` };
    return new OAuthError(code, description, { status, ...(headers ? { headers } : {}) });
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
