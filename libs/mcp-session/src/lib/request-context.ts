import type { CallerIdentity } from '@gateway/contracts';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestInfo } from '@modelcontextprotocol/sdk/types.js';

/** One HTTP request as a tool handler sees it. */
export interface McpRequestContext {
  /** The caller from the edge's identity headers; `undefined` without the edge. */
  readonly identity: CallerIdentity | undefined;
  /** `performance.now()` when the request reached the service (for elapsed-time reports). */
  readonly receivedAt: number;
  /** The request's headers, lower-case names (as the SDK passes them). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Reads the request context from a tool handler's `extra` argument. */
export function requestContextOf(extra: { authInfo?: AuthInfo; requestInfo?: RequestInfo }): McpRequestContext {
  const stamped = extra.authInfo?.extra as { identity?: CallerIdentity; receivedAt?: number } | undefined;
  return {
    identity: stamped?.identity,
    receivedAt: stamped?.receivedAt ?? performance.now(),
    headers: extra.requestInfo?.headers ?? {},
  };
}
