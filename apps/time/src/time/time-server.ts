import { type CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { convertTime, currentTime, TimeInputError, type ZonedTime } from './zoned-time';

const ZONED_TIME = z.object({
  timezone: z.string(),
  datetime: z.string(),
  day_of_week: z.string(),
  is_dst: z.boolean(),
});

const zoneInput = (role: string, examples: string, localZone: string) =>
  z
    .string()
    .max(100)
    .describe(
      `${role}IANA timezone name (e.g., ${examples}). Use '${localZone}' as local timezone if no ${role.toLowerCase()}timezone provided by the user.`,
    );

/** The official server's result: its JSON as text (what its clients read), and the same object as structured content. */
function result(value: ZonedTime | { source: ZonedTime; target: ZonedTime; time_difference: string }): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: { ...value } };
}

/** A caller's mistake is a tool error the model can read (MCP 2025-11-25 server/tools "Error Handling"). */
function run(compute: () => CallToolResult): CallToolResult {
  try {
    return compute();
  } catch (error) {
    if (!(error instanceof TimeInputError)) throw error;
    return { content: [{ type: 'text', text: error.message }], isError: true };
  }
}

/**
 * The time server: the official mcp-server-time's contract (tools `get_current_time` and `convert_time`, their
 * argument names, descriptions and JSON results), with `localZone` in place of the host's zone, which means nothing to
 * a remote user (TIME_LOCAL_TIMEZONE, default UTC).
 */
export function buildTimeServer(version: string, localZone: string): McpServer {
  const server = new McpServer({ name: 'time', version }, { capabilities: { tools: {} } });
  server.registerTool(
    'get_current_time',
    {
      description: 'Get current time in a specific timezones',
      inputSchema: z.object({ timezone: zoneInput('', "'America/New_York', 'Europe/London'", localZone) }),
      outputSchema: ZONED_TIME,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ timezone }) => run(() => result(currentTime(timezone))),
  );
  server.registerTool(
    'convert_time',
    {
      description: 'Convert time between timezones',
      inputSchema: z.object({
        source_timezone: zoneInput('Source ', "'America/New_York', 'Europe/London'", localZone),
        time: z.string().max(10).describe('Time to convert in 24-hour format (HH:MM)'),
        target_timezone: zoneInput('Target ', "'Asia/Tokyo', 'America/San_Francisco'", localZone),
      }),
      outputSchema: z.object({ source: ZONED_TIME, target: ZONED_TIME, time_difference: z.string() }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ source_timezone, time, target_timezone }) =>
      run(() => result(convertTime(source_timezone, time, target_timezone))),
  );
  return server;
}
