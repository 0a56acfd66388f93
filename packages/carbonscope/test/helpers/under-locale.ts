import { execFileSync } from 'node:child_process';

/**
 * What an ES module `script` writes to stdout in a child Node whose LANG and LC_ALL are `locale`:
 * Intl takes its default locale from them once, at start, so only a new process shows it.
 */
export function underLocale(locale: string, script: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, LANG: locale, LC_ALL: locale },
    encoding: 'utf8',
  });
}
