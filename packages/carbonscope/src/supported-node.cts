// Which Node carbonscope runs on, asked before any other module of it loads. CommonJS, so that a
// Node without require(esm) can load it from a require() as well as from an import: there the
// rest of carbonscope fails deep inside (process.getBuiltinModule, ERR_REQUIRE_ESM), and a user
// should read the version needed and the one they run instead.

/** package.json's `engines.node`, which a unit test holds this to. */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/**
 * Why carbonscope cannot run on Node `version` (process.versions.node's form, `18.20.8`), in one
 * sentence; undefined where it can. 20.19 and 22.12 are the first with require(esm) unflagged,
 * which `require('carbonscope')` and `-r carbonscope/register` need; 21 never had it.
 */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const supported = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
  return supported
    ? undefined
    : `carbonscope needs Node.js ${SUPPORTED_NODE}; this is Node.js v${version}`;
}

/**
 * Throws unsupportedNode's sentence, without the stack: its frames are Node's loader, nothing a
 * user can act on.
 */
export function refuseUnsupportedNode(): void {
  const why = unsupportedNode();
  if (why === undefined) return;
  const err = new Error(why);
  err.stack = `Error: ${why}`;
  throw err;
}
