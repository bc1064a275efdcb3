/** `@gateway/mcp-echo`: the echo servers' tools (echo-stateless, echo-stateful), built on `@gateway/mcp-session`. */
export { buildEchoServer, type EchoOptions } from './lib/echo-server';
