import type { CallerIdentity } from '@gateway/contracts';
import type { AuthInfo } from '@modelcontextprotocol/server';

/** One HTTP request as a tool handler sees it. */
export interface McpRequestContext {
  /** The caller from the edge's identity headers; `undefined` without the edge. */
  readonly identity: CallerIdentity | undefined;
  /** `performance.now()` when the request reached the service (for elapsed-time reports). */
  readonly receivedAt: number;
  /** The request's headers, lower-case names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What `requestContextOf` reads from a tool handler's context (the SDK v2 `ServerContext`). */
export interface HandlerContext {
  readonly http?: { readonly authInfo?: AuthInfo; readonly req?: Request } | undefined;
}

/** Reads the request context from a tool handler's `ctx` argument (SDK v2), in either protocol era. */
export function requestContextOf(ctx: HandlerContext): McpRequestContext {
  const stamped = ctx.http?.authInfo?.extra as { identity?: CallerIdentity; receivedAt?: number } | undefined;
  const headers: Record<string, string> = {};
  ctx.http?.req?.headers.forEach((value, name) => (headers[name] = value));
  return {
    identity: stamped?.identity,
    receivedAt: stamped?.receivedAt ?? performance.now(),
    headers,
  };
}
