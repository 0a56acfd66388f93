import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { commandFailure } from '../helpers/command-failure.js';

describe('test helpers: commandFailure', () => {
  const options = { cwd: tmpdir(), env: process.env };
  const node = (code: string) => commandFailure(process.execPath, ['-e', code], options);

  it("is '' where the command exits 0, whatever it printed", async () => {
    expect(await node('console.log("fine"); console.error("a warning")')).to.equal('');
  });

  it('is what a failing checker printed on stdout', async () => {
    expect(await node('console.log("error TS1479"); process.exit(2)')).to.include('error TS1479');
  });

  it('is not empty where the command failed saying so on stderr alone', async () => {
    expect(await node('console.error("ENOENT: no such file"); process.exit(3)')).to.include(
      'ENOENT: no such file',
    );
  });

  it('names a binary that is not there', async () => {
    const missing = join(tmpdir(), 'no-such-dir', 'tsc');
    expect(await commandFailure(missing, ['-p', 'x.json'], options)).to.include(missing);
  });
});
