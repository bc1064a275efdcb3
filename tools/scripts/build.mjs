#!/usr/bin/env node
// Compiles one Nx project's TypeScript (src/**, without specs) to dist/<projectRoot> with swc.
// Why swc and not webpack/tsc emit: it keeps Nest's decorator metadata, rewrites the
// tsconfig path aliases (@gateway/*) to relative requires, and builds the whole repo in about a second
// on a 2-core machine. Type checking is a separate target (tsc --noEmit).
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { transformFile } from '@swc/core';

const root = resolve(import.meta.dirname, '../..');
const projectRoot = process.argv[2];
if (!projectRoot) {
  console.error('usage: node tools/scripts/build.mjs <projectRoot>');
  process.exit(2);
}
const srcDir = join(root, projectRoot, 'src');
const outDir = join(root, 'dist', projectRoot);
const swcrc = JSON.parse(readFileSync(join(root, '.swcrc'), 'utf8'));
const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (/\.(ts|mts|cts)$/.test(entry.name) && !/\.(spec|test|d)\.ts$/.test(entry.name)) yield path;
  }
}

await rm(outDir, { recursive: true, force: true });
let count = 0;
for await (const file of walk(srcDir)) {
  const { code, map } = await transformFile(file, {
    ...swcrc,
    swcrc: false,
    filename: file,
    jsc: { ...swcrc.jsc, baseUrl: root, paths: compilerOptions.paths },
    sourceFileName: relative(join(outDir, relative(join(root, projectRoot), dirname(file))), file),
  });
  const target = join(outDir, relative(join(root, projectRoot), file)).replace(/\.(m|c)?ts$/, '.js');
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, map ? `${code}\n//# sourceMappingURL=${target.split('/').pop()}.map\n` : code);
  if (map) await writeFile(`${target}.map`, map);
  count++;
}
console.log(`built ${projectRoot}: ${count} files → ${relative(root, outDir)}`);
