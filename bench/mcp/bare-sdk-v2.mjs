#!/usr/bin/env node
// A bare MCP server on the official SDK v2 for bench/mcp/run.mjs: node:http, createMcpHandler (2026-07-28, and
// the SDK's stateless 2025 fallback) wrapped by @modelcontextprotocol/node, one `echo` tool. No gateway code.
// `--once`: the tool's schema and handler are built once per process and the factory only creates the McpServer
// and registers them: the least per-request work the SDK v2 contract (a fresh instance per request) allows, i.e.
// the ceiling of any server built on createMcpHandler.
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const echo = ({ message }) => ({ content: [{ type: 'text', text: message }] });
const builtOnce = { inputSchema: z.object({ message: z.string() }) };
const handler = createMcpHandler(
  process.argv.includes('--once')
    ? () => {
        const server = new McpServer({ name: 'bare-sdk-v2', version: '1.0.0' });
        server.registerTool('echo', builtOnce, echo);
        return server;
      }
    : () => {
        const server = new McpServer({ name: 'bare-sdk-v2', version: '1.0.0' });
        server.registerTool('echo', { inputSchema: z.object({ message: z.string() }) }, echo);
        return server;
      },
);
const node = toNodeHandler(handler);
createServer((req, res) => void node(req, res)).listen(Number(process.env.PORT), '127.0.0.1');
