import { McpSessionEnv } from '@gateway/mcp-session';

/** Configuration of the HTTP fixture: the MCP session keys (storage in memory unless REDIS_URL is set). */
export class FixtureEnv extends McpSessionEnv {
  public override PORT = 3299;
}
