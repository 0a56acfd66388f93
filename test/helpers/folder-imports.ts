import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

// The style's two rules about folders, read off the sources: `index.ts` is the only way into a
// folder, and a folder's imports point one way. Biome's noPrivateImports cannot say the first
// (it checks named static imports only, not `export … from`, import() or a createRequire's load,
// and it refuses a sub-folder's index.ts from outside its parent, which the lean entries need),
// and noImportCycles sees files, not folders: a folder that imports another which imports it
// back through a third file is no file cycle.

/** One module a source file names by a relative path: an import, a re-export, a load. */
export interface SourceImport {
  /** The importing file, relative to the root given. */
  from: string;
  line: number;
  /** The path as written. */
  specifier: string;
  /** The file it names, relative to the root given. */
  target: string;
}

const SOURCE = /\.(ts|cts|mts)$/;

/** Every TypeScript source file under `dir` (declaration files left out), relative to `root`. */
function sourceFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(root, path);
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The source file a relative `.js`, `.cjs` or `.mjs` path names, or undefined where it names
 * none (an asset the code reads or serves, not a module).
 */
function sourceOf(root: string, from: string, specifier: string): string | undefined {
  const target = join(dirname(from), specifier).replace(/\.(c|m)?js$/, '.$1ts');
  return existsSync(join(root, target)) ? target : undefined;
}

/**
 * Every quoted relative path to a `.js` module in a file's code: static imports and re-exports,
 * import() and typeof import(), require() and a createRequire's loads, the CLI's loadModule(),
 * quoted or in a template without substitutions (import(`./x.js`) loads as './x.js' does).
 * Any such string that names a source file is taken as a use of it, whatever reads it.
 */
export function sourceImports(root: string, dirs: readonly string[]): SourceImport[] {
  return dirs.flatMap((dir) =>
    sourceFiles(root, dir).flatMap((from) => {
      const text = readFileSync(join(root, from), 'utf8');
      return [...text.matchAll(/(['"`])(\.\.?\/[^'"`$\n]+\.(?:c|m)?js)\1/g)].flatMap((m) => {
        const target = sourceOf(root, from, m[2]);
        if (target === undefined) return [];
        const line = text.slice(0, m.index).split('\n').length;
        return [{ from, line, specifier: m[2], target }];
      });
    }),
  );
}

const INDEX = /^index\.(ts|cts|mts)$/;

/** Whether folder `outer` holds `path` (a folder or file), at any depth, or is it. */
function holds(outer: string, path: string): boolean {
  return outer === '.' || path === outer || path.startsWith(`${outer}${sep}`);
}

/**
 * The imports that reach into a folder past its index.ts: a file in the importer's own folder
 * or in a folder above it may be named; any other is named through its own folder's index.
 */
export function pastIndex(imports: readonly SourceImport[]): SourceImport[] {
  return imports.filter(
    ({ from, target }) =>
      !holds(dirname(target), dirname(from)) && !INDEX.test(target.split(sep).at(-1) ?? ''),
  );
}

/** The members of a folder that an import links: under the deepest folder holding both ends. */
function link(from: string, target: string): { parent: string; a: string; b: string } {
  const f = from.split(sep);
  const t = target.split(sep);
  let i = 0;
  while (i < Math.min(f.length, t.length) - 1 && f[i] === t[i]) i++;
  return { parent: f.slice(0, i).join(sep), a: f[i], b: t[i] };
}

/** One folder of a parent importing another: the first import found that makes the link. */
export interface FolderLink {
  from: string;
  to: string;
  use: SourceImport;
}

/**
 * The links between the folders directly under `parent` (relative to the root the imports were
 * read from): `otel/sdk/x.ts` importing `energy/index.ts` links `otel` to `energy`. Links to or
 * from the parent's own files are left out: a folder reaching another through `settings.ts` is
 * two links of a folder and a file, which folderCycles weighs.
 */
export function folderLinks(imports: readonly SourceImport[], parent: string): FolderLink[] {
  const links = new Map<string, FolderLink>();
  for (const use of imports) {
    const { parent: common, a, b } = link(use.from, use.target);
    if (common !== parent || a === b || SOURCE.test(a) || SOURCE.test(b)) continue;
    if (!links.has(`${a} ${b}`)) links.set(`${a} ${b}`, { from: a, to: b, use });
  }
  return [...links.values()];
}

/** A folder reaching another through files of their parent alone, and the imports on the way. */
export interface FileRoute {
  from: string;
  to: string;
  /** From the folder's import of the first file to the last file's import of the other folder. */
  uses: SourceImport[];
}

/**
 * The folders directly under `parent` that one reaches only through the parent's own files:
 * `cli/` → `settings.ts` → `labels/`, where no file of `cli/` imports `labels/`. folderLinks
 * leaves such a route out, and folderCycles sees it only where it closes a cycle, so a folder
 * reaching one before it in the order through a root file went unseen. The shortest route each.
 */
export function linksThroughFiles(imports: readonly SourceImport[], parent: string): FileRoute[] {
  const graph = new Map<string, Map<string, SourceImport>>();
  for (const use of imports) {
    const { parent: common, a, b } = link(use.from, use.target);
    if (common !== parent || a === b) continue;
    const out = graph.get(a) ?? new Map<string, SourceImport>();
    graph.set(a, out);
    if (!out.has(b)) out.set(b, use);
  }
  const routes: FileRoute[] = [];
  for (const [folder, direct] of graph) {
    if (SOURCE.test(folder)) continue;
    const reached = new Set<string>([folder, ...direct.keys()]);
    let frontier = [...direct]
      .filter(([file]) => SOURCE.test(file))
      .map(([file, use]) => ({
        file,
        uses: [use],
      }));
    const seen = new Set<string>();
    while (frontier.length > 0) {
      const next: typeof frontier = [];
      for (const { file, uses } of frontier) {
        if (seen.has(file)) continue;
        seen.add(file);
        for (const [member, use] of graph.get(file) ?? []) {
          if (SOURCE.test(member)) next.push({ file: member, uses: [...uses, use] });
          else if (!reached.has(member)) {
            reached.add(member);
            routes.push({ from: folder, to: member, uses: [...uses, use] });
          }
        }
      }
      frontier = next;
    }
  }
  return routes;
}

/** A cycle among the members of `parent` (its files and folders), one import per link shown. */
export interface FolderCycle {
  parent: string;
  members: string[];
  links: string[];
}

/**
 * The cycles among the members of each folder, at least one of them a folder: each folder is one
 * node, whatever file of it imports or is imported, so `energy/meter.ts` importing `settings.ts`
 * links `energy` to `settings.ts` under their common folder. Type-only imports count, as the
 * dependency they are. Cycles of files alone are Biome's noImportCycles'.
 */
export function folderCycles(imports: readonly SourceImport[]): FolderCycle[] {
  const graphs = new Map<string, Map<string, Map<string, SourceImport>>>();
  for (const use of imports) {
    const { parent, a, b } = link(use.from, use.target);
    if (a === b) continue;
    const graph = graphs.get(parent) ?? new Map<string, Map<string, SourceImport>>();
    graphs.set(parent, graph);
    const out = graph.get(a) ?? new Map<string, SourceImport>();
    graph.set(a, out);
    if (!out.has(b)) out.set(b, use);
  }
  const cycles: FolderCycle[] = [];
  for (const [parent, graph] of graphs) {
    for (const members of stronglyConnected(graph)) {
      if (members.length < 2 || members.every((m) => SOURCE.test(m))) continue;
      const inCycle = new Set(members);
      const links = members.flatMap((a) =>
        [...(graph.get(a) ?? new Map<string, SourceImport>())]
          .filter(([b]) => inCycle.has(b))
          .map(([b, use]) => `${a} → ${b} (${use.from}:${use.line} '${use.specifier}')`),
      );
      cycles.push({ parent, members, links });
    }
  }
  return cycles;
}

/** Tarjan's strongly connected components of a directed graph given as adjacency maps. */
function stronglyConnected(graph: ReadonlyMap<string, ReadonlyMap<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    components.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components;
}
