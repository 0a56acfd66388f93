import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { folderCycles, pastIndex, sourceImports } from '../helpers/folder-imports.js';

// The library's sources and the app's: tests and tools may reach into a folder to test a file.
const SOURCES = ['packages/carbonscope/src', 'src'];

describe('folder imports (the style: index.ts the only way into a folder, imports one way)', () => {
  const imports = sourceImports(projectRoot, SOURCES);

  it('reads the imports of both source trees (static, re-exports, import(), require())', () => {
    const named = (from: string, specifier: string) =>
      imports.some((use) => use.from === from && use.specifier === specifier);
    expect(imports.length).to.be.greaterThan(1000);
    expect(named('src/server.ts', './config.js'), 'a static import').to.equal(true);
    expect(named('packages/carbonscope/src/index.ts', './energy/index.js'), 'a re-export').to.equal(
      true,
    );
    expect(
      named('packages/carbonscope/src/register-import.ts', './register-eager.js'),
      'an import()',
    ).to.equal(true);
    expect(
      named('packages/carbonscope/src/register.ts', './register-eager.js'),
      "a createRequire's load",
    ).to.equal(true);
  });

  it('reads a type-only import, a type re-export and an import() of a template', () => {
    const root = mkdtempSync(join(tmpdir(), 'folder-imports-'));
    try {
      mkdirSync(join(root, 'lib', 'energy'), { recursive: true });
      writeFileSync(join(root, 'lib', 'energy', 'track.ts'), 'export type T = 1;\n');
      const lines = [
        "import type { T } from './energy/track.js';",
        "export type { T as U } from './energy/track.js';",
        'export const load = () => import(`./energy/track.js`);',
      ];
      writeFileSync(join(root, 'lib', 'a.ts'), `${lines.join('\n')}\n`);
      const found = sourceImports(root, ['lib']).map((use) => `${use.line} ${use.target}`);
      const track = join('lib', 'energy', 'track.ts');
      expect(found).to.deep.equal([`1 ${track}`, `2 ${track}`, `3 ${track}`]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reaches every folder through its index.ts', () => {
    const offences = pastIndex(imports).map(
      (use) => `${use.from}:${use.line} '${use.specifier}' (${use.target})`,
    );
    if (offences.length > 0) {
      expect.fail(
        `${offences.length} imports reach into a folder past its index.ts (export the name from ` +
          `the folder's index.ts; where that index would load too much on a lean path, give ` +
          `the lean part a sub-folder of its own):\n${offences.join('\n')}`,
      );
    }
  });

  it('has no folder that imports, directly or through others, a folder that imports it', () => {
    const cycles = folderCycles(imports).map(
      (cycle) =>
        `in ${cycle.parent || '.'}: ${cycle.members.join(', ')}\n  ${cycle.links.join('\n  ')}`,
    );
    if (cycles.length > 0) {
      expect.fail(`${cycles.length} folder cycles:\n${cycles.join('\n')}`);
    }
  });

  it('tells an import past an index.ts and a cycle of two folders apart from their fixes', () => {
    const use = (from: string, specifier: string, target: string) => ({
      from,
      line: 1,
      specifier,
      target,
    });
    const deep = use('lib/a.ts', './energy/track.js', 'lib/energy/track.ts');
    const viaIndex = use('lib/a.ts', './energy/index.js', 'lib/energy/index.ts');
    const subIndex = use('lib/a.ts', './energy/limits/index.js', 'lib/energy/limits/index.ts');
    const up = use('lib/energy/b.ts', '../clocks.js', 'lib/clocks.ts');
    expect(pastIndex([deep, viaIndex, subIndex, up])).to.deep.equal([deep]);

    const there = use('lib/grid/c.ts', '../otel/index.js', 'lib/otel/index.ts');
    const back = use('lib/otel/d.ts', '../grid/index.js', 'lib/grid/index.ts');
    const throughRoot = use('lib/grid/e.ts', '../settings.js', 'lib/settings.ts');
    const rootBack = use('lib/settings.ts', './grid/index.js', 'lib/grid/index.ts');
    expect(folderCycles([there])).to.deep.equal([]);
    expect(folderCycles([there, back]).map((c) => [c.parent, c.members])).to.deep.equal([
      ['lib', ['grid', 'otel']],
    ]);
    expect(folderCycles([throughRoot, rootBack]).map((c) => c.members)).to.deep.equal([
      ['grid', 'settings.ts'],
    ]);
    // Two files importing each other are a file cycle (Biome's noImportCycles), not a folder's.
    const f = use('lib/f.ts', './g.js', 'lib/g.ts');
    const g = use('lib/g.ts', './f.js', 'lib/f.ts');
    expect(folderCycles([f, g])).to.deep.equal([]);
  });
});
