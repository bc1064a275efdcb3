/** `@gateway/mcp-echo`: the echo servers' tools (echo-stateless, echo-stateful), built on `@gateway/mcp-session`. */
export { echoServer, type EchoOptions } from './lib/echo-server';
