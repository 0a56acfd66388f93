// Which Node carbonscope runs on, asked before any other module of it loads. CommonJS, so that a
// Node without require(esm) can load it from a require() as well as from an import: there the
// rest of carbonscope fails deep inside (process.getBuiltinModule, ERR_REQUIRE_ESM), and a user
// should read the version needed and the one they run instead.

/**
 * package.json's `engines.node`, which a unit test holds this to: where import, `--import
 * carbonscope/register` and the command line run. 22.3 brought process.getBuiltinModule, which
 * carbonscope's modules call as they load; 21 never had it, and 20 had it from 20.16.
 */
export const SUPPORTED_NODE = '^20.19.0 || >=22.3.0';

/**
 * Where `require('carbonscope')` and `-r carbonscope/register` run as well: 20.19 and 22.12 are
 * the first with require(esm) unflagged. 22.3 to 22.11 run carbonscope imported only.
 */
export const REQUIRE_NODE = '^20.19.0 || >=22.12.0';

/** How carbonscope is being loaded: a require() asks more of Node than an import. */
export type LoadedBy = 'import' | 'require';

/**
 * Why carbonscope cannot be loaded `by` an import or a require() on Node `version`
 * (process.versions.node's form, `18.20.8`), in one sentence; undefined where it can.
 */
export function unsupportedNode(
  by: LoadedBy = 'import',
  version: string = process.versions.node,
): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const atLeast = (onTwentyTwo: number) =>
    major > 22 || (major === 22 && minor >= onTwentyTwo) || (major === 20 && minor >= 19);
  if (!atLeast(3))
    return `carbonscope needs Node.js ${SUPPORTED_NODE}; this is Node.js v${version}`;
  if (by === 'require' && !atLeast(12)) {
    return `require('carbonscope') needs Node.js ${REQUIRE_NODE} (require of an ES module); this is Node.js v${version}: import it, or start with --import carbonscope/register`;
  }
  return undefined;
}

/**
 * Why an import that Node gave register's require() entry cannot load there (Node `version`, where
 * require(esm) is missing): 22.3 to 22.11 find its import entry by the `node-addons` condition
 * only, and `--no-addons` (or NODE_OPTIONS with it) turns that off.
 */
export function importWithoutAddons(version: string = process.versions.node): string {
  return `under --no-addons, Node.js v${version} gives an import the require() entry, which needs Node.js ${REQUIRE_NODE} (require of an ES module): drop --no-addons, or use a later Node.js`;
}

/**
 * Throws unsupportedNode's sentence, without the stack: its frames are Node's loader, nothing a
 * user can act on.
 */
export function refuseUnsupportedNode(by: LoadedBy = 'import'): void {
  const why = unsupportedNode(by);
  if (why === undefined) return;
  const err = new Error(why);
  err.stack = `Error: ${why}`;
  throw err;
}

/**
 * Whether `err` is Node refusing a require() of an ES module, as a Node without require(esm) does.
 * Asked only once a require() failed: a bundle, whose require() is its own, runs on such a Node.
 */
export function refusedRequireOfEsm(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ERR_REQUIRE_ESM';
}

/**
 * For register's entries: true, its one line written, where this Node cannot load the rest of
 * register `by` the way it came; the application runs unmetered, as register says of its other
 * failures (the rest would stop it deep inside).
 */
export function registerUnsupported(by: LoadedBy): boolean {
  return registerUnmetered(unsupportedNode(by));
}

/** For register's entries: true, with `why` written as register's one line, where it is given. */
export function registerUnmetered(why: string | undefined): boolean {
  if (why === undefined) return false;
  process.stderr.write(
    `carbonscope: error: carbonscope/register: ${why}; the application runs unmetered\n`,
  );
  return true;
}
