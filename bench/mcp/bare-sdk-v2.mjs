#!/usr/bin/env node
// A bare MCP server on the official SDK v2 for bench/mcp/run.mjs: node:http, createMcpHandler (2026-07-28, and
// the SDK's stateless 2025 fallback) wrapped by @modelcontextprotocol/node, one `echo` tool. No gateway code.
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'bare-sdk-v2', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: z.object({ message: z.string() }) }, ({ message }) => ({
    content: [{ type: 'text', text: message }],
  }));
  return server;
});
const node = toNodeHandler(handler);
createServer((req, res) => void node(req, res)).listen(Number(process.env.PORT), '127.0.0.1');
