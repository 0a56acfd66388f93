/**
 * The library's version (the meter's instrumentation scope version): a constant, because a
 * bundler that inlines the library leaves its package.json behind. A unit test keeps it equal to
 * package.json's.
 */
export const VERSION = '0.2.0';
