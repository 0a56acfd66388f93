import { expect } from 'chai';
import { type EmbodiedSettings, embodiedGramsPerSecond } from '../../src/embodied.js';
import { sciOf } from '../../src/energy/sci.js';
import { loadCatalog } from '../../src/llm/catalog.js';
import { llmImpacts } from '../../src/llm/llm-impacts.js';

// What a JavaScript caller may pass where a number or a name belongs. Each check quoted it with
// String(): a null-prototype object threw "Cannot convert object to primitive value" in place of
// the error naming the field, an object's own toString ran (and could hand out what it holds),
// and a long string was echoed whole, control characters and all.
const key = 'sk-carbonscope-0123456789';
const odd: Array<[string, unknown]> = [
  ['a null-prototype object', Object.create(null)],
  ['an object with a toString', { toString: () => key }],
  ['an array', [key]],
  ['a long string', `${'x'.repeat(1_000_000)}\u001b[2J`],
];

function expectNamed(work: () => unknown, type: typeof Error, start: RegExp, what: string): void {
  let thrown: unknown;
  try {
    work();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, what).to.be.instanceOf(type);
  const message = (thrown as Error).message;
  expect(message, what).to.match(start);
  expect(message, what).not.to.include(key);
  expect(message.length, what).to.be.below(300);
  expect(message, what).not.to.match(/\p{Cc}/u);
}

describe('values a check refuses, as its message quotes them', () => {
  const catalog = loadCatalog();
  const own: EmbodiedSettings = {
    profile: 'server',
    totalKg: 1000,
    lifetimeYears: 4,
    hostVcpus: 4,
    reservedVcpus: 2,
    source: 'a test host',
  };
  for (const [what, value] of odd) {
    it(`names the field, not the value's own text, for ${what}`, () => {
      const request = { provider: 'openai', model: 'gpt-4o', outputTokens: 10 };
      if (typeof value !== 'string') {
        expectNamed(
          () => llmImpacts(catalog, { ...request, model: value as string }),
          TypeError,
          /^model: expected a string, got /,
          what,
        );
      }
      expectNamed(
        () => llmImpacts(catalog, { ...request, outputTokens: value as number }),
        RangeError,
        /^outputTokens: /,
        what,
      );
      expectNamed(
        () => embodiedGramsPerSecond({ ...own, totalKg: value as number }),
        RangeError,
        /^embodied totalKg: expected /,
        what,
      );
      expectNamed(
        () => sciOf({ grams: value as number, embodiedGrams: 0, estimated: false }),
        RangeError,
        /^grams: expected /,
        what,
      );
      expectNamed(
        () => sciOf({ grams: 1, embodiedGrams: 0, estimated: false }, value as number),
        RangeError,
        /^R \(functional units\) must be /,
        what,
      );
    });
  }
});
