import { EnvInt } from '@gateway/config';
import { McpEnv } from '@gateway/mcp-session';
import { IsIn, IsString } from 'class-validator';

/** Configuration of the tmux service (see .env.example and docs/mcp-services.md, "tmux"). */
export class TmuxEnv extends McpEnv {
  public override PORT = 3105;

  /** Data directory (as the stdio servers'): each user's tmux socket and home live in its `tmux/` (created 0700). */
  @IsString()
  public MCP_DATA_DIR = './data';

  /** Seconds a user's tmux server (and every program in it) lives without a tool call. */
  @EnvInt(10, 7 * 24 * 3600)
  public TMUX_IDLE_TIMEOUT = 1800;

  /**
   * Network namespace of the users' tmux servers (catalog `egress: none`): `required` a fresh one or no boot, `auto`
   * the same but only a warning where none can be made, `off` (compose: the container's network isolates). Empty:
   * `required` in production, `auto` otherwise.
   */
  @IsIn(['', 'required', 'auto', 'off'], { message: 'must be required, auto or off' })
  public TMUX_NETNS: '' | 'required' | 'auto' | 'off' = '';
}
