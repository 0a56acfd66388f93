import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

// Where a unit test sits says what it tests: the test named after module `src/a/b/x.ts` lives at
// `test/unit/a/b/x.test.ts`, one of a folder `src/a/x/` taken through its index at
// `test/unit/a/x.test.ts`. A test named for a behaviour (no module or folder has its name) is
// not held to a place: half the unit tests are such, and a rule for them would be a list.

/** A line in a test file that says why it sits apart from the module it is named after. */
export const APART = /^\/\/ Apart from its module: \S/m;

const MODULE = /\.(ts|cts|mts)$/;

/** Every file under `dir`, relative to it, with `/` between folders. */
function filesUnder(dir: string, at = ''): string[] {
  return readdirSync(join(dir, at), { withFileTypes: true }).flatMap((entry) => {
    const path = at === '' ? entry.name : `${at}/${entry.name}`;
    return entry.isDirectory() ? [`${path}/`, ...filesUnder(dir, path)] : [path];
  });
}

/**
 * What each name stands for in a source tree: the folders (relative to it, '.' for its root)
 * holding a module of that name (index and declaration files left out) or a folder of it.
 */
function placesOfNames(src: string): Map<string, Set<string>> {
  const places = new Map<string, Set<string>>();
  const add = (name: string, folder: string) => {
    const set = places.get(name) ?? new Set<string>();
    places.set(name, set);
    set.add(folder);
  };
  for (const path of filesUnder(src)) {
    const folder = path.endsWith('/') ? posix.dirname(path.slice(0, -1)) : posix.dirname(path);
    const name = posix.basename(path).replace(MODULE, '');
    if (path.endsWith('/')) add(name, folder);
    else if (MODULE.test(path) && !/\.d\.(c|m)?ts$/.test(path) && name !== 'index') {
      add(name, folder);
    }
  }
  return places;
}

/** A unit test that is not where the module or folder it is named after would have it. */
export interface MisplacedTest {
  /** The test, relative to the root given. */
  test: string;
  /** Where it would sit instead, one path per module or folder of its name. */
  wanted: string[];
}

/**
 * The unit tests under `root/tests` named after a module or folder of `root/src` and not in the
 * folder that mirrors its place, unless the file says why (APART).
 */
export function misplacedTests(root: string, tests: string, src: string): MisplacedTest[] {
  const places = placesOfNames(join(root, src));
  return filesUnder(join(root, tests))
    .filter((path) => path.endsWith('.test.ts'))
    .flatMap((path) => {
      const name = posix.basename(path, '.test.ts');
      const folder = posix.dirname(path);
      const at = places.get(name);
      if (at === undefined || at.has(folder)) return [];
      const test = join(tests, ...path.split('/'));
      if (APART.test(readFileSync(join(root, test), 'utf8'))) return [];
      const wanted = [...at].sort().map((f) => join(tests, ...f.split('/'), `${name}.test.ts`));
      return [{ test, wanted }];
    });
}

/** The folders under `root/tests` that mirror no folder of `root/src`, relative to `root`. */
export function foldersWithoutSource(root: string, tests: string, src: string): string[] {
  const sources = new Set(filesUnder(join(root, src)).filter((path) => path.endsWith('/')));
  return filesUnder(join(root, tests))
    .filter((path) => path.endsWith('/') && !sources.has(path))
    .map((path) => join(tests, ...path.slice(0, -1).split('/')));
}
