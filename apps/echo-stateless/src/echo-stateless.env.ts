import { McpEnv } from '@gateway/mcp-session';

/** Configuration of echo-stateless (see .env.example). */
export class EchoStatelessEnv extends McpEnv {
  public override PORT = 3101;
}
