import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { majorGcCounter } from '../../bench/major-gcs.js';

describe('bench: majorGcCounter', () => {
  it('counts forced full collections and not the young generation', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;
    const counter = majorGcCounter();
    try {
      gc({ type: 'minor' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(counter.count()).to.equal(0);
      gc();
      gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(counter.count()).to.equal(2);
    } finally {
      counter.stop();
    }
  });
});
