import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { IDENTITY_HEADERS } from '@gateway/contracts';
import { headerOf, type McpExchange, refuse } from '@gateway/mcp-session';
import type { Logger } from '@nestjs/common';
import { Agent } from 'undici';
import type { Peer } from './owner-registry';

/** The header that marks (and authenticates) a request one replica forwards to the owner of its child. */
export const PEER_HEADER = 'x-stdio-peer';
const SCHEME = 'v1';
/** A forward older (or newer) than this is refused: replay window, and the clock skew replicas may have. */
const MAX_AGE_MS = 30_000;
/** Not forwarded: hop-by-hop (RFC 9110 §7.6.1) or set by the client library. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);
/** Error codes that mean the owner is not there (nothing was sent): the caller treats it as dead. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Signs and checks forwards between the replicas of one service with the shared `STDIO_PEER_SECRET`
 * (HMAC-SHA256, RFC 2104). The signature binds the sender and the addressed replica, the time, the method, the
 * session id, every identity header the edge set (x-user-id, ...) and the body's SHA-256: a forward cannot be
 * sent to another replica, replayed after 30 s, or altered, and a client cannot make one (it would need the
 * secret). `x-stdio-peer: v1.<from>.<to>.<unix ms>.<base64url mac>`.
 */
export class PeerSigner {
  public constructor(
    private readonly secret: string,
    private readonly selfId: string,
  ) {}

  public sign(to: string, exchange: McpExchange, at = Date.now()): string {
    return `${SCHEME}.${this.selfId}.${to}.${at}.${this.mac(this.selfId, to, at, exchange)}`;
  }

  /** Why a forward is refused, or undefined when it is a genuine one addressed to this replica. */
  public check(header: string, exchange: McpExchange, now = Date.now()): string | undefined {
    const [scheme, from, to, at, mac, ...rest] = header.split('.');
    if (scheme !== SCHEME || !from || !to || !at || !mac || rest.length > 0) return 'malformed';
    if (to !== this.selfId) return 'addressed to another replica';
    const time = Number(at);
    if (!Number.isSafeInteger(time) || Math.abs(now - time) > MAX_AGE_MS) return 'expired';
    const expected = Buffer.from(this.mac(from, to, time, exchange));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'bad signature';
  }

  private mac(from: string, to: string, at: number, { request }: McpExchange): string {
    // Header values cannot hold a newline (RFC 9110 §5.5), so the fields cannot run into each other.
    const signed = [
      SCHEME,
      from,
      to,
      String(at),
      request.method,
      headerOf(request, 'mcp-session-id') ?? '',
      ...Object.values(IDENTITY_HEADERS).map((name) => headerOf(request, name) ?? ''),
      createHash('sha256')
        .update(typeof request.body === 'string' ? request.body : '')
        .digest('base64url'),
    ].join('\n');
    return createHmac('sha256', this.secret).update(signed).digest('base64url');
  }
}

/**
 * Forwards an MCP request to the replica that owns its child and streams the answer back unchanged (status,
 * headers, JSON or SSE). `unreachable`: nothing reached the owner (connection refused, host gone): the caller
 * decides (404 for a session, a new child for a user). An owner that dies mid-answer ends the client's
 * response with it: that request is lost, as it would be without forwarding.
 */
export class PeerForwarder {
  /** Long SSE streams and slow tools: the owner's own deadlines bound a request, not this hop. */
  private readonly agent = new Agent({ connect: { timeout: 2_000 }, headersTimeout: 0, bodyTimeout: 0 });

  public constructor(
    private readonly signer: PeerSigner,
    private readonly logger: Logger,
  ) {}

  public async forward(exchange: McpExchange, owner: Peer): Promise<'forwarded' | 'unreachable'> {
    const { request, reply } = exchange;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'content-length' && name !== PEER_HEADER)
        headers[name] = value;
    // The route rewrote a JSON-only Accept to list both types (mcp-route.ts); the owner must answer JSON too.
    if (exchange.jsonOnly) headers['accept'] = 'application/json';
    headers[PEER_HEADER] = this.signer.sign(owner.id, exchange);
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);
    let answer;
    try {
      answer = await this.agent.request({
        origin: owner.url,
        path: request.url,
        method: request.method as 'GET' | 'POST' | 'DELETE',
        headers,
        body: request.method === 'POST' && typeof request.body === 'string' ? request.body : null,
        signal: abort.signal,
      });
    } catch (error) {
      reply.raw.off('close', onClose);
      if (unreachableCodeOf(error) !== undefined) return 'unreachable';
      this.logger.warn(`forward to replica ${owner.id.slice(0, 8)} failed: ${String(error)}`);
      if (!reply.sent && !reply.raw.destroyed)
        await refuse(reply, 502, 'The replica holding this session did not answer', -32603);
      return 'forwarded';
    }
    reply.hijack();
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    reply.raw.writeHead(answer.statusCode, out);
    reply.raw.flushHeaders();
    try {
      await pipeline(answer.body, reply.raw);
    } catch {
      // The owner died mid-answer or the client left: the response ends here (the client sees the break).
      reply.raw.destroy();
    } finally {
      reply.raw.off('close', onClose);
    }
    return 'forwarded';
  }

  public close(): Promise<void> {
    return this.agent.close();
  }
}

/** The system or undici error code of `error` or of one of its causes that says nothing reached the owner. */
function unreachableCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && UNREACHABLE.has(code)) return code;
    current = cause;
  }
  return undefined;
}
