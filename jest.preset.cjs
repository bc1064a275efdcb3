// Shared Jest settings: swc compiles TypeScript (with Nest's decorator metadata) and the
// ESM-only packages we use (jose, openid-client, oauth4webapi, ...) to CommonJS for Jest.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const swcrc = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));
const { compilerOptions } = JSON.parse(readFileSync(join(__dirname, 'tsconfig.base.json'), 'utf8'));

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, join(__dirname, target)]),
);

const ESM_ONLY = [
  'jose',
  'openid-client',
  'oauth4webapi',
  'oidc-provider',
  'pkce-challenge',
  'ipaddr.js',
  'robots-parser',
  'turndown',
  'linkedom',
  'undici',
  'eventsource',
  'eventsource-parser',
  'yaml',
  'lru-cache',
  'css-select',
  'css-what',
  'nth-check',
  'domutils',
  'domhandler',
  'dom-serializer',
  'entities',
  'boolbase',
  'domelementtype',
  'cssomnom',
];

const preset = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  moduleNameMapper,
  transform: {
    '^.+\\.(t|j|mj|cj)s$': ['@swc/jest', { ...swcrc, swcrc: false, jsc: { ...swcrc.jsc, target: 'es2022' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.map((name) => name.replace('.', '\\.')).join('|')})/)`],
  testTimeout: 30_000,
  // Tests run with NODE_ENV=test, so ConfigModule ignores a developer's .env.
  setupFiles: [join(__dirname, 'tools/jest/env.cjs')],
};

/**
 * One project's Jest config. `kind: 'e2e'` runs `*.e2e-spec.ts` with a real Redis from the global setup;
 * `redis: true` gives unit tests the same.
 */
function jestProject(dir, { kind = 'unit', redis = kind === 'e2e', ...extra } = {}) {
  const name = require(join(dir, 'project.json')).name;
  return {
    ...preset,
    displayName: name,
    rootDir: dir,
    testMatch: kind === 'e2e' ? ['<rootDir>/src/**/*.e2e-spec.ts'] : ['<rootDir>/src/**/*.spec.ts'],
    reporters: ['default', [join(__dirname, 'tools/jest/count-reporter.cjs'), { displayName: name, kind }]],
    ...(redis
      ? {
          globalSetup: join(__dirname, 'libs/testing/src/lib/jest-global-setup.ts'),
          globalTeardown: join(__dirname, 'libs/testing/src/lib/jest-global-teardown.ts'),
        }
      : {}),
    ...extra,
  };
}

module.exports = { preset, jestProject };
