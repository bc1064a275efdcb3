import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { SessionRecord } from './session-store';

/**
 * Rebuilds on this replica a 2025-era session another process initialized, through the SDK's public API
 * only: the stored `initialize` (same protocol version, client info and capabilities) and
 * `notifications/initialized` are replayed into a fresh transport whose session id generator returns the
 * stored id. The server answers as it did the first time; the answer is read and dropped. (SDK v1 needed
 * private fields for this; v2 2.4 has no adopt-a-session API either, and replaying needs none.)
 */
export async function replayInitialize(
  transport: WebStandardStreamableHTTPServerTransport,
  record: SessionRecord,
): Promise<void> {
  const post = (body: object, headers: Record<string, string> = {}): Promise<Response> =>
    transport.handleRequest(
      new Request('http://replica.invalid/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      }),
      { parsedBody: body },
    );
  const initialize = await post({
    jsonrpc: '2.0',
    id: `revive-${record.id}`,
    method: 'initialize',
    params: {
      protocolVersion: record.protocolVersion,
      capabilities: record.clientCapabilities,
      clientInfo: record.clientInfo ?? { name: 'unknown', version: '0' },
    },
  });
  await initialize.text();
  if (initialize.status !== 200) throw new Error(`replaying initialize failed: HTTP ${initialize.status}`);
  const initialized = await post(
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { 'mcp-session-id': record.id, 'mcp-protocol-version': record.protocolVersion },
  );
  await initialized.text();
}

/**
 * JSON or SSE for the next POST on an SDK v1 transport (stdio-proxy's 2025-era bridge), per request
 * (basic/transports: the client's Accept decides). v1 fixes this per transport (`enableJsonResponse`).
 */
export function setJsonResponses(transport: StreamableHTTPServerTransport, json: boolean): void {
  const web = (transport as unknown as { _webStandardTransport?: { _enableJsonResponse?: boolean } })
    ._webStandardTransport;
  if (!web || !('_enableJsonResponse' in web)) {
    throw new Error('unsupported @modelcontextprotocol/sdk transport internals (written for 1.32.2)');
  }
  web._enableJsonResponse = json;
}
