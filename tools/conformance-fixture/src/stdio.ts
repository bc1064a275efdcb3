import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { buildFixtureServer } from './fixture-server';

/** The conformance fixture over stdio (one connection per process), e.g. as the stdio proxy's child. */
void buildFixtureServer()
  .connect(new StdioServerTransport())
  .catch((error: unknown) => {
    process.stderr.write(`conformance-fixture (stdio) failed: ${String(error)}\n`);
    process.exit(1);
  });
