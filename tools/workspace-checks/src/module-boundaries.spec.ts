import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The Nx tag rules are what keeps MCP code out of auth code: prove the lint rule really refuses
 * such imports (and still accepts the allowed ones), using the repository's own ESLint config.
 */
const root = join(__dirname, '../../..');

// ESLint runs as its own process: its flat config is ESM, which Jest's module system cannot load.
async function boundaryErrors(filePath: string, source: string): Promise<string[]> {
  const run = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/eslint/bin/eslint.js'),
      '--stdin',
      '--stdin-filename',
      join(root, filePath),
      '--format',
      'json',
    ],
    { cwd: root, input: source, encoding: 'utf8' },
  );
  const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string | null; message: string }[] }[];
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === '@nx/enforce-module-boundaries')
    .map((message) => message.message);
}

describe('module boundaries (@nx/enforce-module-boundaries)', () => {
  it.each([
    [
      'an MCP app imports an auth lib',
      'apps/echo-stateless/src/probe.ts',
      "import { OAuthError } from '@gateway/oauth';\nexport const x = OAuthError;\n",
    ],
    [
      'a shared lib imports an auth lib',
      'libs/storage/src/probe.ts',
      "import { OAuthError } from '@gateway/oauth';\nexport const x = OAuthError;\n",
    ],
    [
      'a lib imports an app',
      'libs/catalog/src/probe.ts',
      "import { AppModule } from '../../../apps/auth/src/app.module';\nexport const x = AppModule;\n",
    ],
  ])('refuses: %s', async (_case, file, source) => {
    expect(await boundaryErrors(file, source)).not.toEqual([]);
  });

  it.each([
    [
      'auth uses an auth lib',
      'apps/auth/src/probe.ts',
      "import { OAuthError } from '@gateway/oauth';\nexport const x = OAuthError;\n",
    ],
    [
      'an MCP app uses a shared lib',
      'apps/fetchs/src/probe.ts',
      "import { resolveTopology } from '@gateway/catalog';\nexport const x = resolveTopology;\n",
    ],
  ])('allows: %s', async (_case, file, source) => {
    expect(await boundaryErrors(file, source)).toEqual([]);
  });
});
