import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libraryRoot } from './paths.js';

/** The library's version, as its package.json says (the meter's instrumentation scope version). */
export const VERSION = (
  JSON.parse(readFileSync(join(libraryRoot, 'package.json'), 'utf8')) as { version: string }
).version;
