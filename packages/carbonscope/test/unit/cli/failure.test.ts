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

  it('reads -v inside a group of short options, as the option parser does', () => {
    expect(asksVerbose('monitor', ['-hv'])).to.equal(true);
    expect(asksVerbose('monitor', ['-vd', '1s'])).to.equal(true);
    expect(asksVerbose('run', ['-hv', '--', 'true'])).to.equal(true);
    expect(asksVerbose('run', ['-vz', 'DE', '--', 'true'])).to.equal(true);
    // After a short option that takes a value, the rest of the group is that value.
    expect(asksVerbose('monitor', ['-dv'])).to.equal(false);
    expect(asksVerbose('run', ['-ov', '--', 'true'])).to.equal(false);
    // The command's own -v, grouped or not, is the command's.
    expect(asksVerbose('run', ['--', 'node', '-v'])).to.equal(false);
    expect(asksVerbose('run', ['-z', 'DE', '--', 'grep', '-iv', 'x'])).to.equal(false);
    expect(asksVerbose('run', ['-z', 'DE', 'grep', '-iv', 'x'])).to.equal(false);
  });
});
