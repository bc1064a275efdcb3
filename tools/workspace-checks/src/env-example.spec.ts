import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Every configuration key a service reads is documented in .env.example (as `KEY=` or `# KEY=`).
 * Keys are found where they are declared: the public properties of the env classes (`*env.ts`).
 */
const root = join(__dirname, '../../..');

function* envClassFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* envClassFiles(path);
    else if (/env\.ts$/.test(name) && !name.endsWith('.spec.ts')) yield path;
  }
}

describe('.env.example', () => {
  const example = readFileSync(join(root, '.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
  const declared = [...envClassFiles(join(root, 'apps')), ...envClassFiles(join(root, 'libs'))].flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/public (?:override )?(?:readonly )?([A-Z][A-Z0-9_]+)\??[!:=\s]/g)].map(
      (match) => [match[1] as string, relative(root, file)] as const,
    ),
  );

  it('finds the env classes', () => {
    expect(declared.map(([key]) => key)).toEqual(expect.arrayContaining(['PORT', 'LOG_LEVEL', 'REDIS_URL']));
  });

  it('documents every declared key', () => {
    const missing = declared.filter(([key]) => !documented.has(key)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
  });
});
