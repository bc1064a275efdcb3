import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { preProcessFile } from 'typescript';

/**
 * The Nx tag rules are what keeps MCP code out of auth code: prove the lint rule really refuses
 * such imports (and still accepts the allowed ones), using the repository's own ESLint config.
 */
const root = join(__dirname, '../../..');

// ESLint runs as its own process: its flat config is ESM, which Jest's module system cannot load.
async function boundaryErrors(
  filePath: string,
  source: string,
  rule = '@nx/enforce-module-boundaries',
): Promise<string[]> {
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
  return (result?.messages ?? []).filter((message) => message.ruleId === rule).map((message) => message.message);
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

/**
 * auth's two wings (docs/auth.md "Layout"): `authorization/` and `tokens/` never import each other; the only
 * arrows between them run through the shared rooms, which import neither wing (ESLint no-restricted-imports).
 */
describe("auth's wings (no-restricted-imports)", () => {
  const probe = (from: string): string => `import { x as y } from '${from}';\nexport const x = y;\n`;

  it.each([
    ['authorization imports tokens', 'apps/auth/src/authorization/probe.ts', '../tokens/token.service'],
    ['a room inside authorization imports tokens', 'apps/auth/src/authorization/login/probe.ts', '../../tokens/keys/x'],
    ['tokens imports authorization', 'apps/auth/src/tokens/probe.ts', '../authorization/authorization-flow.service'],
    [
      'a room inside tokens imports authorization',
      'apps/auth/src/tokens/verify/probe.ts',
      '../../authorization/login/x',
    ],
    ['a shared room imports a wing', 'apps/auth/src/store/probe.ts', '../tokens/token.service'],
    ['a shared room imports the other wing', 'apps/auth/src/clients/probe.ts', '../authorization/consent/x'],
  ])('refuses: %s', async (_case, file, from) => {
    expect(await boundaryErrors(file, probe(from), 'no-restricted-imports')).not.toEqual([]);
  });

  it.each([
    ['authorization uses the code store', 'apps/auth/src/authorization/probe.ts', '../store/authorization-codes'],
    ['tokens uses the code store', 'apps/auth/src/tokens/probe.ts', '../store/authorization-codes'],
    ['tokens uses the client authenticator', 'apps/auth/src/tokens/revocation/probe.ts', '../../clients/x'],
    ['a wing uses its own rooms', 'apps/auth/src/tokens/probe.ts', './verify/verify.handler'],
    ['the composition root wires both wings', 'apps/auth/src/probe.ts', './tokens/tokens.module'],
  ])('allows: %s', async (_case, file, from) => {
    expect(await boundaryErrors(file, probe(from), 'no-restricted-imports')).toEqual([]);
  });
});

/** Every relative import of auth's sources, as [importing file, imported file] relative to apps/auth/src. */
function authImports(): [string, string][] {
  const src = join(root, 'apps/auth/src');
  const files = (readdirSync(src, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts'));
  return files.flatMap((file) =>
    preProcessFile(readFileSync(join(src, file), 'utf8'))
      .importedFiles.map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name): [string, string] => [file, relative(src, resolve(src, dirname(file), name))]),
  );
}

/** The top-level room (folder under apps/auth/src) of a file; `.` for the composition root's own files. */
const roomOf = (file: string): string => (file.includes('/') ? (file.split('/')[0] as string) : '.');

describe("auth's folders, read from the sources", () => {
  const imports = authImports();
  const arrows = new Set(
    imports.map(([from, to]) => `${roomOf(from)} -> ${roomOf(to)}`).filter((arrow) => !/^(\S+) -> \1$/.test(arrow)),
  );

  it('finds the imports it checks (the scan cannot pass by reading nothing)', () => {
    expect(arrows).toContain('tokens -> store');
    expect(arrows).toContain('authorization -> store');
  });

  it('has no import between the two wings', () => {
    expect([...arrows].filter((arrow) => /^(authorization -> tokens|tokens -> authorization)$/.test(arrow))).toEqual(
      [],
    );
  });

  it('has no import cycle between folders', () => {
    const next = new Map<string, string[]>();
    for (const arrow of arrows) {
      const [from, to] = arrow.split(' -> ') as [string, string];
      next.set(from, [...(next.get(from) ?? []), to]);
    }
    const cycles = new Set<string>();
    const visit = (room: string, path: string[]): void => {
      if (path.includes(room)) {
        cycles.add([...path.slice(path.indexOf(room)), room].join(' -> '));
        return;
      }
      for (const target of next.get(room) ?? []) visit(target, [...path, room]);
    };
    for (const room of next.keys()) visit(room, []);
    expect([...cycles]).toEqual([]);
  });
});
