import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';

const SCRIPT = join(libraryRoot, 'tools', 'prune-dist.mjs');

function write(root: string, files: readonly string[]): void {
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), '');
  }
}

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(
      (e) =>
        e.isFile() || (e.isDirectory() && readdirSync(join(e.parentPath, e.name)).length === 0),
    )
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

// `tsc -b` keeps what it emitted for a source that moved: a moved test then ran twice under the
// suites' globs (2,160 library tests instead of 1,865 after stop 72's moves), and `npm pack`
// would ship a moved module's old copy.
describe('prune-dist (the build after tsc -b)', () => {
  it('removes what tsc emitted for a source that is gone, and nothing it did not emit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-prune-'));
    try {
      write(dir, ['src/a.ts', 'src/c.cts', 'src/m.mts', 'src/data.json', 'test/unit/t.test.ts']);
      const kept = [
        'dist/src/a.js',
        'dist/src/a.js.map',
        'dist/src/a.d.ts',
        'dist/src/a.d.ts.map',
        'dist/src/c.cjs',
        'dist/src/c.d.cts',
        'dist/src/m.mjs',
        'dist/src/m.d.mts',
        'dist/src/data.json',
        'dist/test/unit/t.test.js',
        'dist/tsconfig.tsbuildinfo',
      ];
      const stale = [
        'dist/src/gone.js',
        'dist/src/gone.js.map',
        'dist/src/gone.d.ts',
        'dist/src/gone.d.ts.map',
        'dist/src/old.cjs',
        'dist/test/unit/moved/t.test.js',
        'dist/test/unit/moved/t.test.d.ts',
      ];
      write(dir, [...kept, ...stale]);
      const out = execFileSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
      expect(tree(join(dir, 'dist'))).to.deep.equal(
        kept.map((f) => f.slice('dist/'.length)).sort(),
      );
      expect(out.trim()).to.equal(`prune-dist: 7 stale file(s) removed from ${join(dir, 'dist')}`);
      // Run again: nothing left to remove, nothing said.
      expect(execFileSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' })).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("removes the old kind's outputs of a source renamed to another kind (x.cts to x.ts)", () => {
    // tsc maps each source kind to its own outputs (nodenext): .ts and .tsx to .js and .d.ts,
    // .cts to .cjs and .d.cts, .mts to .mjs and .d.mts. A .cjs left by a .cts renamed to .ts
    // would ship: the package's files take dist/src/**/*.cjs.
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-prune-'));
    try {
      write(dir, ['src/r.ts', 'src/k.mts', 'src/v.tsx']);
      const kept = ['dist/src/r.js', 'dist/src/r.d.ts', 'dist/src/k.mjs', 'dist/src/v.js'];
      const stale = ['dist/src/r.cjs', 'dist/src/r.d.cts', 'dist/src/k.js', 'dist/src/k.d.ts'];
      write(dir, [...kept, ...stale]);
      execFileSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
      expect(tree(join(dir, 'dist'))).to.deep.equal(
        kept.map((f) => f.slice('dist/'.length)).sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes a .json copy whose source .json is gone, and keeps one whose source is there', () => {
    // tsc copies an imported .json (resolveJsonModule) to the same path under dist/ and, as with
    // its other outputs, never deletes the copy: a data file moved in the sources shipped twice.
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-prune-'));
    try {
      write(dir, ['src/data/zones.json', 'src/a.ts']);
      const kept = ['dist/src/data/zones.json', 'dist/src/a.js'];
      const stale = ['dist/src/zones.json', 'dist/src/data/old.json', 'dist/src/a.json'];
      write(dir, [...kept, ...stale]);
      const out = execFileSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
      expect(tree(join(dir, 'dist'))).to.deep.equal(
        kept.map((f) => f.slice('dist/'.length)).sort(),
      );
      expect(out.trim()).to.equal(`prune-dist: 3 stale file(s) removed from ${join(dir, 'dist')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes over a project with no dist/ and refuses to run without a project', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-prune-'));
    try {
      expect(execFileSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' })).to.equal('');
      expect(() => execFileSync(process.execPath, [SCRIPT], { stdio: 'pipe' })).to.throw(
        /usage: prune-dist\.mjs/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs after tsc -b in the package's prepack and the repository's build", () => {
    const scripts = (dir: string) =>
      (
        JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          scripts: Record<string, string>;
        }
      ).scripts;
    expect(scripts(libraryRoot).prepack).to.match(/tsc -b && node tools\/prune-dist\.mjs \.$/);
    expect(scripts(join(libraryRoot, '..', '..')).build).to.match(
      /^tsc -b && node packages\/carbonscope\/tools\/prune-dist\.mjs \. packages\/carbonscope$/,
    );
  });
});
