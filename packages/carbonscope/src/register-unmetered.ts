// What register's entries say where the rest of register cannot load: one line, and the
// application runs. The entries load it only then, and write the line themselves where it
// cannot load either (an entry alone beside a bundle).
import { createRequire } from 'node:module';
import { firstLineOf } from './thrown-text.js';

/**
 * One line naming why register's rest did not load; the application goes on unmetered. `entry`
 * is how register was loaded: only a require() is told to use --import instead.
 */
export function tellUnmetered(err: unknown, entry: 'require' | 'import'): void {
  // MODULE_NOT_FOUND's message goes on with its require stack: the first line names the file.
  const reason = firstLineOf(err);
  const advice = entry === 'require' ? pnpAdvice() : '';
  tell(`carbonscope/register: ${reason}${advice}; the application runs unmetered`);
}

/**
 * Under Yarn Plug'n'Play, Node's require() of an ES module resolves its imports past the loader
 * that alone reaches the zip archives: `-r carbonscope/register` and `require('carbonscope')`
 * cannot load it there, `--import` can (and is not told so: it loaded, and failed otherwise).
 */
function pnpAdvice(): string {
  if (!process.versions.pnp) return '';
  return " (Yarn Plug'n'Play: require() cannot load carbonscope, start it with --import carbonscope/register, or set nodeLinker: node-modules)";
}

/** Through register's logger (its level, its masking) where that loads; else stderr as it writes. */
function tell(message: string): void {
  try {
    const { defaultLogger } = createRequire(import.meta.url)(
      './default-logger.js',
    ) as typeof import('./default-logger.js');
    defaultLogger(process.env).error(message);
  } catch {
    process.stderr.write(`carbonscope: error: ${message}\n`);
  }
}
