import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';

// The image cannot be built here (no Docker). What its runtime stage copies from the build is
// the tree this suite runs on, built: every module copied must load with what `npm prune
// --omit=dev` leaves, and every module it imports must be copied too.

const root = (...path: string[]) => join(projectRoot, ...path);

/** The build stage's paths the runtime stage copies (`COPY --from=build /app/<path> ...`). */
function copiedFromBuild(dockerfile: string): string[] {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return [...runtime.matchAll(/^COPY --from=build (.+)$/gm)].flatMap((line) => {
    const paths = (line[1] ?? '').trim().split(/\s+/).slice(0, -1);
    return paths.map((p) => relative('/app', p));
  });
}

function jsFilesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return path.endsWith('.js') ? [path] : [];
  return readdirSync(path).flatMap((name) => jsFilesUnder(join(path, name)));
}

/** Static and dynamic imports with a literal specifier, and require() calls. */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const patterns = [
    /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[1] ?? ''));
}

const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

function productionPackages(): Set<string> {
  const names = new Set<string>();
  for (const file of ['package.json', 'packages/carbonscope/package.json']) {
    const pkg = JSON.parse(readFileSync(root(file), 'utf8')) as {
      name?: string;
      dependencies?: Record<string, string>;
    };
    if (pkg.name) names.add(pkg.name);
    for (const name of Object.keys(pkg.dependencies ?? {})) names.add(name);
  }
  return names;
}

describe('stack: the Docker image runs on what it copies', () => {
  const copied = copiedFromBuild(readFileSync(root('Dockerfile'), 'utf8'));
  const files = copied.filter((p) => p.includes('dist/')).flatMap((p) => jsFilesUnder(root(p)));
  const inImage = new Set(files);
  const builtins = new Set(builtinModules);

  it('copies built modules (the suite runs on a built tree)', () => {
    expect(files.length, `modules under ${copied.join(', ')}`).to.be.greaterThan(100);
  });

  it('copies no module that imports a dev dependency, which npm prune removed', () => {
    const production = productionPackages();
    const strays = files.flatMap((file) =>
      specifiersOf(file)
        .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtins.has(s))
        .filter((s) => !production.has(packageOf(s)))
        .map((s) => `${relative(projectRoot, file)} imports ${s}`),
    );
    expect(strays).to.deep.equal([]);
  });

  it('copies every module a copied module imports by path', () => {
    const missing = files.flatMap((file) =>
      specifiersOf(file)
        .filter((s) => s.startsWith('.'))
        .map((s) => resolve(dirname(file), s))
        .filter((target) => target.endsWith('.js') && !inImage.has(target))
        .map((target) => `${relative(projectRoot, file)} needs ${relative(projectRoot, target)}`),
    );
    expect(missing).to.deep.equal([]);
  });
});
