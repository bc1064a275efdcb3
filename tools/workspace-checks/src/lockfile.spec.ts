import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm ci` on any platform needs every platform's optional packages in the lockfile (@swc/core-darwin-arm64,
 * @nx/nx-win32-x64-msvc, ...): a lockfile written without them installs here and fails elsewhere. CI's plain
 * `npm ci` refuses a lockfile out of sync with package.json; this test also catches the incomplete one.
 */
const root = join(__dirname, '../../..');

interface LockedPackage {
  readonly version?: string;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    lockfileVersion: number;
    packages: Readonly<Record<string, LockedPackage>>;
  };
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as LockedPackage;

  /** npm's resolution: the nearest node_modules folder up from the dependent's own. */
  function resolves(from: string, name: string): boolean {
    for (let dir = from; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
      if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
      if (!dir.includes('/node_modules/')) return Boolean(lock.packages[`node_modules/${name}`]);
    }
  }

  it('is a v3 lockfile whose root matches package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages['']?.dependencies).toEqual(manifest.dependencies);
    expect(lock.packages['']?.devDependencies).toEqual(manifest.devDependencies);
  });

  it("lists every package's optional dependencies, for every platform", () => {
    const missing = Object.entries(lock.packages).flatMap(([path, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((name) => !resolves(path, name))
        .map((name) => `${path || '(root)'} -> ${name}`),
    );
    expect(missing).toEqual([]);
  });
});
