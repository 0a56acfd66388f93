import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { underRegister } from '../helpers/under-register.js';

// A script that never exits (a server left listening, a wait never met) held its child on after
// the test's timeout failed it, and after mocha's --exit too: a process per such test, running.
describe('test helper underRegister', () => {
  it('kills a child that runs past its limit, and fails saying so', async function () {
    this.timeout(10_000);
    const failed = await underRegister('setInterval(() => {}, 1000);', {}, libraryRoot, 300).catch(
      (e: Error & { killed?: boolean; signal?: string }) => e,
    );
    expect(failed).to.be.instanceOf(Error);
    expect(failed).to.include({ killed: true, signal: 'SIGKILL' });
  });
});
