import type { CallerIdentity } from '@gateway/contracts';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { DEFAULT_MAX_LENGTH, type FetchService } from './fetch.service';

/** Who is counted for the rate limit when the service runs without the edge (no identity headers). */
export const ANONYMOUS_USER = 'anonymous';

const FETCH_INPUT = z.object({
  url: z.string().min(1).max(8192).describe('The http(s) URL to fetch. Only public addresses are reachable.'),
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET').describe('HTTP method.'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'Extra request headers. Host, hop-by-hop, credential (Authorization, Cookie, Proxy-*) and forwarding headers are refused.',
    ),
  body: z
    .string()
    .max(1024 * 1024)
    .optional()
    .describe('Request body for POST.'),
  max_length: z
    .number()
    .int()
    .positive()
    .max(1_000_000)
    .default(DEFAULT_MAX_LENGTH)
    .describe('Maximum number of characters to return.'),
  start_index: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Character offset to start from, to read on where a previous call was truncated.'),
  raw: z.boolean().default(false).describe('Return the content as received, without converting HTML to Markdown.'),
});

/**
 * The MCP server of fetchs: one `fetch` tool. Built per request (stateless Streamable HTTP), with the caller
 * the edge identified (identity headers, `@gateway/contracts`).
 */
export function buildFetchServer(
  fetchService: FetchService,
  identity: CallerIdentity | undefined,
  version: string,
): McpServer {
  const server = new McpServer({ name: 'fetchs', version });
  server.registerTool(
    'fetch',
    {
      title: 'Fetch a URL',
      description:
        'Fetches a URL from the internet and returns its content: web pages as Markdown (main content only), other text ' +
        'as is, images as image content. Long content is returned in pages of max_length characters; use start_index ' +
        'to read on. Private, loopback and cloud-metadata addresses are refused.',
      inputSchema: FETCH_INPUT,
      annotations: { title: 'Fetch a URL', readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    (input) => fetchService.fetch(input, identity?.userId ?? ANONYMOUS_USER),
  );
  return server;
}
