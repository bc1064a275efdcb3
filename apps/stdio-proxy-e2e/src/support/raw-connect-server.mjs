// A stdio MCP server that ignores HTTP(S)_PROXY: its `connect` tool opens a raw TCP connection, as a browser, a
// native client or code a server runs would. The egress tests use it to show that an `internet` child's network
// namespace lets it reach the egress proxy and nothing else.
import { connect } from 'node:net';
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const server = new McpServer({ name: 'raw-connect', version: '1.0.0' });
server.registerTool(
  'connect',
  {
    description: 'Opens a TCP connection and reports the outcome.',
    inputSchema: z.object({ host: z.string(), port: z.number() }),
  },
  ({ host, port }) =>
    new Promise((resolve) => {
      const socket = connect(port, host);
      const done = (text) => {
        socket.destroy();
        resolve({ content: [{ type: 'text', text }] });
      };
      socket.setTimeout(5_000, () => done('timeout'));
      socket.on('connect', () => done('connected'));
      socket.on('error', (error) => done(`error ${error.code ?? error.message}`));
    }),
);
await server.connect(new StdioServerTransport());
