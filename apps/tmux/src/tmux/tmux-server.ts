import type { CallerIdentity } from '@gateway/contracts';
import { type CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { FIRST_SESSION, TmuxError, type TmuxServers } from './tmux-servers';

// A tmux target (`session`, `session:window`, `session:window.pane`, `@id`, `%id`); never an option.
const TARGET = z
  .string()
  .regex(/^[A-Za-z0-9_.:@%$+][A-Za-z0-9_.:@%$+-]{0,63}$/, 'a tmux target such as main, main:1 or main:1.0')
  .describe('tmux target: session, session:window or session:window.pane (default: the active pane of main)');
const WINDOW_NAME = z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'letters, digits, _ . - (at most 32)');

const text = (body: string): CallToolResult => ({ content: [{ type: 'text', text: body }] });
const failure = (body: string): CallToolResult => ({ content: [{ type: 'text', text: body }], isError: true });

/**
 * The tmux MCP server: a remote shell on the gateway's host (docs/mcp-services.md, "tmux"), against the caller's own
 * tmux server. Built per request with the caller the edge identified; without an identity every tool refuses.
 */
export function buildTmuxServer(
  servers: TmuxServers,
  identity: CallerIdentity | undefined,
  version: string,
): McpServer {
  const server = new McpServer({ name: 'tmux', version }, { capabilities: { tools: {} } });
  const tool = <Shape extends z.ZodRawShape>(
    name: string,
    description: string,
    shape: Shape,
    annotations: { readOnlyHint: boolean; destructiveHint?: boolean },
    commands: (input: z.infer<z.ZodObject<Shape>>) => readonly (readonly string[])[],
    render: (outputs: string[]) => string,
  ): void => {
    server.registerTool(
      name,
      { description, inputSchema: z.object(shape), annotations: { ...annotations, openWorldHint: false } },
      async (input: z.infer<z.ZodObject<Shape>>) => {
        if (!identity) return failure('tmux needs a signed-in user (the identity the edge passes): no anonymous shell');
        try {
          const outputs: string[] = [];
          for (const args of commands(input)) outputs.push(await servers.run(identity.userId, name, args));
          return text(render(outputs));
        } catch (error) {
          if (error instanceof TmuxError) return failure(`tmux: ${error.message}`);
          throw error;
        }
      },
    );
  };
  const trimmed = (outputs: string[]) => outputs.join('').replace(/\s+$/, '');

  tool(
    'list_sessions',
    'Lists your tmux sessions (your own tmux server, started on demand with a session "main").',
    {},
    { readOnlyHint: true },
    () => [
      ['list-sessions', '-F', '#{session_name}\t#{session_windows} windows\t#{?session_attached,attached,detached}'],
    ],
    trimmed,
  );
  tool(
    'list_windows',
    'Lists the windows of one session, or of all your sessions: target, name, running command, active.',
    { session: TARGET.optional().describe('session name (default: all sessions)') },
    { readOnlyHint: true },
    ({ session }) => [
      [
        'list-windows',
        ...(session ? ['-t', session] : ['-a']),
        '-F',
        '#{session_name}:#{window_index}\t#{window_name}\t#{pane_current_command}#{?window_active,\tactive,}',
      ],
    ],
    trimmed,
  );
  tool(
    'capture_pane',
    'Returns the text a pane shows, with up to `lines` lines of its history.',
    { target: TARGET.optional(), lines: z.number().int().min(0).max(5000).default(50).describe('history lines') },
    { readOnlyHint: true },
    ({ target, lines }) => [['capture-pane', '-p', '-J', '-t', target ?? FIRST_SESSION, '-S', String(-lines)]],
    trimmed,
  );
  tool(
    'send_keys',
    'Types into a pane: `keys` as text (literal, default) or as tmux key names separated by spaces (C-c, Up, Escape), ' +
      'then Enter unless `enter` is false. Runs commands in your shell: this is a remote shell.',
    {
      target: TARGET.optional(),
      keys: z.string().min(1).max(10_000),
      literal: z.boolean().default(true).describe('send keys as text (true) or as tmux key names (false)'),
      enter: z.boolean().default(true).describe('press Enter afterwards'),
    },
    { readOnlyHint: false, destructiveHint: true },
    ({ target, keys, literal, enter }) => {
      const pane = target ?? FIRST_SESSION;
      return [
        literal ? ['send-keys', '-t', pane, '-l', '--', keys] : ['send-keys', '-t', pane, '--', ...keys.split(/\s+/)],
        ...(enter ? [['send-keys', '-t', pane, 'Enter']] : []),
      ];
    },
    () => 'sent',
  );
  tool(
    'create_window',
    'Opens a new window (a shell in your home directory) in a session and returns its target.',
    { session: TARGET.default(FIRST_SESSION), name: WINDOW_NAME.optional() },
    { readOnlyHint: false },
    ({ session, name }) => [
      [
        'new-window',
        '-d',
        '-t',
        `${session}:`,
        ...(name ? ['-n', name] : []),
        '-P',
        '-F',
        '#{session_name}:#{window_index}',
      ],
    ],
    trimmed,
  );
  tool(
    'kill_window',
    'Closes a window and ends the programs running in it.',
    { target: TARGET },
    { readOnlyHint: false, destructiveHint: true },
    ({ target }) => [['kill-window', '-t', target]],
    () => 'killed',
  );
  return server;
}
