import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Module boundaries (Nx tags):
 * - scope: MCP code (scope:mcp) never imports auth code (scope:auth) and vice versa; both may use scope:shared.
 * - type: apps are composition roots nobody imports; libs never import apps; e2e projects talk HTTP and use type:testing.
 */
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/*.cjs', '**/*.mjs', 'deploy/**', '.nx/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: ['scope:auth', 'scope:shared'] },
            { sourceTag: 'scope:mcp', onlyDependOnLibsWithTags: ['scope:mcp', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:tooling', onlyDependOnLibsWithTags: ['scope:shared', 'scope:tooling'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:testing', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:testing'] },
            {
              sourceTag: 'type:tool',
              onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:testing'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // auth's two wings (docs/auth.md "Layout"): authorization/ and tokens/ never import each other; they meet only
  // in the shared rooms (store/, clients/, policy/, config/, http/, pages/, audit/ ...), which import neither wing.
  {
    files: ['apps/auth/src/*/**/*.ts'],
    ignores: ['apps/auth/src/authorization/**', 'apps/auth/src/tokens/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [authWing('authorization|tokens')] }] },
  },
  {
    files: ['apps/auth/src/authorization/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [authWing('tokens')] }] },
  },
  {
    files: ['apps/auth/src/tokens/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [authWing('authorization')] }] },
  },
];

/** A relative import that climbs into one of auth's wings (`../tokens/...`, `../../authorization/...`). */
function authWing(names) {
  return {
    regex: `^(\\.\\./)+(${names})(/|$)`,
    message:
      "auth's wings do not import each other, and shared rooms import neither: go through store/, clients/, policy/ or config/ (docs/auth.md).",
  };
}
