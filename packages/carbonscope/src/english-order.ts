/**
 * Names compared in English order whatever LANG says: a bare localeCompare follows the process's
 * locale, and under LC_ALL=et_EE `/z` sorted before `/t` (da_DK put `/aa` last). A Node built
 * without Intl (`--without-intl`) has no Collator, and taking one at load threw there before
 * anything ran: it gets UTF-16 code-unit order, total and stable, but not English: capitals
 * before every lower-case letter, `_` between them (`/aB` < `/a_b` < `/ab`), accents after `z`.
 */
export const englishOrder: (a: string, b: string) => number =
  typeof Intl === 'undefined' ? codeUnitOrder : new Intl.Collator('en').compare;

function codeUnitOrder(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
