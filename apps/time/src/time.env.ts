import { McpEnv } from '@gateway/mcp-session';
import { IsString } from 'class-validator';

/** Configuration of the time service (see .env.example and docs/mcp-services.md). */
export class TimeEnv extends McpEnv {
  public override PORT = 3104;

  /** The zone the tools' descriptions offer as the user's local one (the server's own zone means nothing to a remote user). */
  @IsString()
  public TIME_LOCAL_TIMEZONE = 'UTC';
}
