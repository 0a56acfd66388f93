/**
 * Whether this process is a Node single executable application (SEA): one script in a copy of
 * the node binary. Asked lazily through process.getBuiltinModule, since Bun and Deno lack
 * `node:sea`, and only where it changes what is said: an import() of a package by name there
 * resolves from the working directory, not from the executable's folder or its script.
 */
export function inSingleExecutable(): boolean {
  try {
    const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() === true;
  } catch {
    return false;
  }
}
