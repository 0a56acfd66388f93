/**
 * The library's version (the meter's instrumentation scope version): a constant, because a
 * bundler that inlines the library leaves its package.json behind. `npm version` rewrites it
 * (tools/sync-version.mjs), and npm pack refuses a tarball where it and package.json differ.
 */
export const VERSION = '0.2.0';
