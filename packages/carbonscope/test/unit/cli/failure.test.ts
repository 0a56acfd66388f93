import { expect } from 'chai';
import { asksVerbose, unexpectedErrorText } from '../../../src/cli/failure.js';

describe('unexpected errors on the command line', () => {
  it('are one line without --verbose, the stack with it', () => {
    const err = new TypeError("The argument 'file' cannot be empty.\nReceived ''");
    expect(unexpectedErrorText(err, false)).to.equal(
      "carbonscope: error: TypeError: The argument 'file' cannot be empty.\n",
    );
    const verbose = unexpectedErrorText(err, true);
    expect(verbose).to.match(/^carbonscope: error: TypeError: The argument 'file'/);
    expect(verbose).to.match(/\n {4}at /);
    expect(unexpectedErrorText('a string', false)).to.equal('carbonscope: error: a string\n');
  });

  it('reads --verbose from carbonscope options, never from the command run', () => {
    expect(asksVerbose('monitor', ['-d', '1s', '-v'])).to.equal(true);
    expect(asksVerbose('run', ['--verbose', '--', 'true'])).to.equal(true);
    expect(asksVerbose('run', ['--', 'grep', '-v', 'x'])).to.equal(false);
    expect(asksVerbose('run', ['grep', '--verbose'])).to.equal(false);
    expect(asksVerbose('impacts', ['-m', 'gpt-4o'])).to.equal(false);
  });
});
