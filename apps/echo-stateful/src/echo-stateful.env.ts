import { McpSessionEnv } from '@gateway/mcp-session';

/** Configuration of echo-stateful (see .env.example). */
export class EchoStatefulEnv extends McpSessionEnv {
  public override PORT = 3102;
}
