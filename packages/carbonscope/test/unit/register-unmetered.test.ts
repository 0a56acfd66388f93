import { expect } from 'chai';
import { tellUnmetered } from '../../src/register-unmetered.js';
import { ODD_THROWS, textlessValue } from '../helpers/textless-throws.js';

/** What `body` wrote to stderr; it writes nothing there while it runs. */
function stderrOf(body: () => void): string {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof write;
  try {
    body();
  } finally {
    process.stderr.write = write;
  }
  return written.join('');
}

// register's line for a rest that threw is written while the entry reports: a value whose text
// cannot be read made the line throw in its turn, and the application stopped (see
// register-thrown-values.test for the entries themselves).
describe("register's line where its rest could not load", () => {
  for (const { name, source, said } of ODD_THROWS) {
    it(`names ${name} as it can, and does not throw`, () => {
      const thrown: unknown = textlessValue(source);
      const line = stderrOf(() => tellUnmetered(thrown, 'import'));
      expect(line).to.equal(
        `carbonscope: error: carbonscope/register: ${said}; the application runs unmetered\n`,
      );
    });
  }

  it('says the first line of a message of many', () => {
    const thrown = new Error("Cannot find module './register-eager.js'\nRequire stack:\n- /app");
    expect(stderrOf(() => tellUnmetered(thrown, 'import'))).to.equal(
      "carbonscope: error: carbonscope/register: Cannot find module './register-eager.js'; the application runs unmetered\n",
    );
  });
});
