import { expect } from 'chai';
import { Readiness } from '../../src/readiness.js';

// Start-up work that rejects keeps the service unready and says why. A value with no prototype
// made the report throw in the rejection handler: an unhandled rejection, which ends the process.
describe('Readiness', () => {
  it('names a start-up rejection String() cannot convert, and stays unready', async () => {
    const unhandled: unknown[] = [];
    const heard = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', heard);
    try {
      const readiness = new Readiness();
      readiness.waitFor('model', Promise.reject(Object.create(null)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).to.have.length(0);
      expect(readiness.status()).to.deep.equal({
        ready: false,
        pending: [],
        failed: { model: 'a value with no text' },
      });
    } finally {
      process.off('unhandledRejection', heard);
    }
  });
});
