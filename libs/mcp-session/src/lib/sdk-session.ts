import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { SessionRecord } from './session-store';

/**
 * Revives a session another process initialized. The SDK (1.32.2) keeps "initialized" and the session
 * id inside the web-standard transport and the client's capabilities inside the Server, with no public
 * setter (only `initialize` sets them). We set the same fields `initialize` would; `mcp-endpoint.spec.ts`
 * (a second replica serving a session) fails if an SDK upgrade renames them.
 */
export function reviveSession(
  transport: StreamableHTTPServerTransport,
  server: McpServer,
  record: SessionRecord,
): void {
  const web = internalsOf(transport);
  web.sessionId = record.id;
  web._initialized = true;
  const low = server.server as unknown as ServerInternals;
  low._clientCapabilities = record.clientCapabilities;
  low._clientVersion = record.clientInfo ?? undefined;
}

/**
 * JSON or SSE for the next POST, per request (basic/transports: the client's Accept decides). The SDK
 * fixes this per transport (`enableJsonResponse`); a stateful session's transport serves many requests.
 */
export function setJsonResponses(transport: StreamableHTTPServerTransport, json: boolean): void {
  internalsOf(transport)._enableJsonResponse = json;
}

function internalsOf(transport: StreamableHTTPServerTransport): WebTransportInternals {
  const web = (transport as unknown as { _webStandardTransport?: WebTransportInternals })._webStandardTransport;
  if (!web || !('_initialized' in web) || !('_enableJsonResponse' in web)) {
    throw new Error('unsupported @modelcontextprotocol/sdk transport internals (written for 1.32.2)');
  }
  return web;
}

interface WebTransportInternals {
  sessionId: string | undefined;
  _initialized: boolean;
  _enableJsonResponse: boolean;
}

interface ServerInternals {
  _clientCapabilities: unknown;
  _clientVersion: unknown;
}
