import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import {
  folderCycles,
  folderLinks,
  linksThroughFiles,
  type SourceImport,
  sourceImports,
} from '../helpers/folder-imports.js';
import { againstWritten, type WrittenOrder, writtenOrders } from '../helpers/written-order.js';

const LIBRARY = join('packages', 'carbonscope', 'src');
const APP = 'src';

function foldersOf(src: string): string[] {
  return readdirSync(join(projectRoot, src), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

describe("folder order (the README's Architecture lists against the imports)", () => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const imports = sourceImports(projectRoot, [LIBRARY, APP]);

  /** What the README of `text` gets wrong about one tree, or that its lists cannot be read. */
  const offences = (text: string, tree: 'library' | 'app'): string[] => {
    const written: WrittenOrder | undefined = writtenOrders(text)[tree];
    if (written === undefined) return [`the README has no order and full list for the ${tree}`];
    const src = tree === 'library' ? LIBRARY : APP;
    const links = folderLinks(imports, src);
    return againstWritten(written, foldersOf(src), links, linksThroughFiles(imports, src));
  };

  for (const tree of ['library', 'app'] as const) {
    it(`has the ${tree}'s folders, each import and each link as the README writes them`, () => {
      const found = offences(readme, tree);
      if (found.length > 0) {
        expect.fail(
          `the README's Architecture section and the ${tree}'s imports disagree (fix the import ` +
            `or the section):\n${found.join('\n')}`,
        );
      }
    });
  }

  // Measured against what the README as it is already gets wrong, so that a new folder or import
  // fails the two tests above alone, not this one too with a bare diff of arrays.
  const added = (text: string, tree: 'library' | 'app'): string[] => {
    const already = offences(readme, tree);
    return offences(text, tree).filter((offence) => !already.includes(offence));
  };

  it('fails on a README with two folders swapped, a folder left out, or a link left out', () => {
    const swapped = readme.replace('`http` → `energy` → `grid`', '`energy` → `http` → `grid`');
    expect(swapped, 'the library order as written here').to.not.equal(readme);
    expect(added(swapped, 'library')).to.have.members([
      `http → energy (${where('http', 'energy')}) goes against the written order`,
    ]);

    const appSwapped = readme.replace('`http` → `views`, or', '`views` → `http`, or');
    expect(appSwapped, 'the app order as written here').to.not.equal(readme);
    expect(added(appSwapped, 'app')).to.have.members([
      `http → views (${where('http', 'views', APP)}) goes against the written order`,
    ]);

    const leftOut = readme.replace('or `proc/`, `fetch-body/`, `llm/`', 'or `proc/`, `llm/`');
    expect(leftOut, 'the leaves as written here').to.not.equal(readme);
    expect(added(leftOut, 'library')).to.deep.equal([
      'fetch-body/ is in neither the order nor the folders that import none',
    ]);

    const linkOut = readme.replace('; `labels` → `metrics`. In the app', '. In the app');
    expect(linkOut, 'the full list as written here').to.not.equal(readme);
    expect(added(linkOut, 'library')).to.deep.equal([
      `labels → metrics (${where('labels', 'metrics')}) is missing from the full list`,
    ]);
  });

  it('holds a folder that reaches another through root files alone to the order', () => {
    const use = (from: string, specifier: string, target: string): SourceImport => ({
      from: join('lib', from),
      line: 1,
      specifier,
      target: join('lib', target),
    });
    // grid/ → settings.ts → http/: against `http` → `energy` → `grid`, and no cycle (no folder
    // imports grid/), so neither the direct links nor the cycle check saw it.
    const imports = [
      use('grid/a.ts', '../settings.js', 'settings.ts'),
      use('settings.ts', './http/index.js', 'http/index.ts'),
      use('http/b.ts', '../energy/index.js', 'energy/index.ts'),
      use('llm/d.ts', '../settings.js', 'settings.ts'),
    ];
    expect(folderCycles(imports), 'cycles the other check would name').to.deep.equal([]);
    const written: WrittenOrder = {
      order: ['http', 'energy', 'grid'],
      leaves: ['llm'],
      links: ['http → energy'],
    };
    const through = linksThroughFiles(imports, 'lib');
    const direct = folderLinks(imports, 'lib');
    const found = againstWritten(written, ['http', 'energy', 'grid', 'llm'], direct, through);
    const route = (from: string) =>
      `${join('lib', from)}:1 '../settings.js', ${join('lib', 'settings.ts')}:1 './http/index.js'`;
    expect(found).to.have.members([
      `grid → http through settings.ts (${route('grid/a.ts')}) goes against the written order`,
      `llm → http through settings.ts (${route('llm/d.ts')}), and llm/ is written to import no folder`,
    ]);
  });

  /** The first import the sources make from folder `a` to folder `b`, as offences name it. */
  function where(a: string, b: string, src = LIBRARY): string {
    const link = folderLinks(imports, src).find(({ from, to }) => from === a && to === b);
    if (link === undefined) throw new Error(`no import from ${a}/ to ${b}/`);
    return `${link.use.from}:${link.use.line} '${link.use.specifier}'`;
  }
});
