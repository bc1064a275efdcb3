/**
 * `@gateway/mcp-session`: MCP over Streamable HTTP (protocol 2025-11-25, negotiating 2025-06-18,
 * 2025-03-26 and 2024-11-05) for every native MCP service, on `@modelcontextprotocol/sdk`'s transport.
 *
 * Usage (app.module.ts):
 * ```ts
 * imports: [
 *   ConfigModule.forRoot(MyEnv, 'my-service'),          // MyEnv extends McpEnv (or McpSessionEnv)
 *   PlatformModule.forRoot({ envClass: MyEnv, quietPaths: MCP_QUIET_PATHS }), // /mcp logs its own access line
 *   // stateful only: StorageModule.forRoot(MyEnv),
 *   McpHttpModule.forRoot({ name: 'my-service', mode: 'stateless', envClass: MyEnv, definition: myServer }),
 * ]
 * // myServer(...injected): (ctx: McpServerContext) => McpServer — called once per process (`inject: [MyEnv,
 * // SomeService]` hands it those providers): build tool definitions and schemas there, and return the factory
 * // that registers them on a new McpServer per request (stateless) or per session (stateful).
 * // In a tool handler: `const { identity, headers, receivedAt } = requestContextOf(extra)`.
 * ```
 *
 * Behaviour at `/mcp` and `/mcp/`:
 * - `Origin` not in `MCP_ALLOWED_ORIGINS` → 403 (no Origin passes); unsupported `MCP-Protocol-Version` → 400;
 *   non-JSON Content-Type → 415; malformed JSON → 400 with JSON-RPC -32700; body over `MCP_MAX_BODY_BYTES` → 413.
 *   Every refusal has a JSON-RPC error body; client mistakes never get a 5xx.
 * - POST answers SSE when Accept lists `text/event-stream`, JSON otherwise; notifications/responses → 202.
 *   JSON-RPC batches only without an `MCP-Protocol-Version` header or with one before 2025-06-18 (else 400).
 * - stateless: a new server per POST, no session id; GET/DELETE → 405.
 * - stateful: `initialize` without a session id opens a session (record in KeyValueStore, bound to
 *   `x-user-id`); other requests without `Mcp-Session-Id` → 400; unknown, ended, expired
 *   (`MCP_SESSION_IDLE_TIMEOUT`) or another user's session → 404; GET opens the server-to-client
 *   stream; DELETE ends the session. Any replica sharing the store serves any session (requests on
 *   one replica cannot push onto a GET stream held by another).
 */
export { McpEnv, McpSessionEnv } from './lib/mcp-env';
export { type McpServerContext, type McpServerFactory, type McpSession } from './lib/mcp-endpoint';
export { McpHttpModule, type McpHttpOptions, toolPolicyFor } from './lib/mcp-http.module';
export { ToolPolicy } from './lib/tool-policy';
/** Lower level, for services that bridge rather than host an McpServer (stdio-proxy). */
export {
  headerOf,
  MCP_QUIET_PATHS,
  type McpExchange,
  type McpRouteOptions,
  refuse,
  registerMcpRoute,
  serveTransport,
} from './lib/mcp-route';
export { type HandlerContext, type McpRequestContext, requestContextOf } from './lib/request-context';
export { type SessionRecord } from './lib/session-store';
export { serveWeb, type WebHandler } from './lib/web-exchange';
