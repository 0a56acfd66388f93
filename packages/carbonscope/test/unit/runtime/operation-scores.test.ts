import { expect } from 'chai';
import { underLocale } from '../../helpers/under-locale.js';

/** The operations' order in a snapshot as a process under `locale` lists them, each once. */
function orderUnder(locale: string, operations: string[]): string {
  const module = new URL('../../../src/runtime/operation-scores.js', import.meta.url).href;
  const labels = new URL('../../../src/labels/index.js', import.meta.url).href;
  const script = `const { OperationScores } = await import(${JSON.stringify(module)});
const { operationLabels } = await import(${JSON.stringify(labels)});
const scores = new OperationScores(operationLabels());
for (const operation of ${JSON.stringify(operations)}) {
  scores.record({ operation, kind: 'operation', durationSeconds: 0, joules: 1, grams: 1,
    embodiedGrams: 1, estimated: false, provisional: false });
}
process.stdout.write(scores.list().map((s) => s.operation).join(' '));`;
  return underLocale(locale, script);
}

describe('operation scores', () => {
  // A bare localeCompare followed LANG: under et_EE `z` came before `t`, under da_DK `aa` last.
  it('orders operations of equal counts the same whatever LC_ALL says', () => {
    for (const locale of ['C', 'et_EE.UTF-8', 'da_DK.UTF-8', 'lt_LT.UTF-8']) {
      expect(orderUnder(locale, ['z', 't', 'aa', 'y', 'j']), locale).to.equal('aa j t y z');
    }
  });
});
