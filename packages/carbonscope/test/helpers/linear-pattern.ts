import { expect } from 'chai';
import { check } from 'recheck';

/**
 * Asserts that `pattern` matches in time at most linear in its input, by recheck's automaton
 * checker: a proof on the pattern's structure (its NFA's ambiguity), the same answer on every
 * machine, where a timed run would hang on a slow one or pass on a fast one. A pattern with no
 * repetition is proved `safe` (constant) rather than `linear`; either passes. A pattern the
 * automaton cannot read (a back-reference, a look-around) fails the test: such a one is checked
 * another way.
 */
export async function expectLinear(pattern: RegExp): Promise<void> {
  const verdict = await check(pattern.source, pattern.flags, {
    checker: 'automaton',
    timeout: null,
  });
  const attack = verdict.status === 'vulnerable' ? verdict.attack.pattern : '';
  const proved = verdict.status === 'safe' && !verdict.complexity.isFuzz;
  const complexity = verdict.status === 'safe' ? verdict.complexity.type : verdict.status;
  expect(
    proved ? 'at most linear' : complexity,
    `/${pattern.source}/${pattern.flags} ${attack}`,
  ).to.equal('at most linear');
}
