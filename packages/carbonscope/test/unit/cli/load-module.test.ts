import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadModule } from '../../../src/cli/load-module.js';

/** What `loading` rejected with; undefined where it loaded. */
async function rejection(loading: Promise<unknown>): Promise<Error | undefined> {
  try {
    await loading;
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

describe('cli/load-module', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carbonscope-load-module-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a module with top-level await, which require() refuses, by import()', async () => {
    const file = join(dir, 'awaits.mjs');
    writeFileSync(file, 'export const value = await Promise.resolve(42);\n');
    expect((await loadModule<{ value: number }>(file)).value).to.equal(42);
  });

  it("throws what a module's own evaluation threw, not a second try's outcome", async () => {
    // A module that throws while it runs is no refusal of require(): trying import() after it
    // ran it twice, and where the second run went through (Node 20.19's import() handed back a
    // module whose evaluation threw as loaded) the error went unsaid.
    const file = join(dir, 'first-run-throws.cjs');
    writeFileSync(
      file,
      'globalThis.runs = (globalThis.runs ?? 0) + 1;\n' +
        "if (globalThis.runs === 1) throw new Error('its first run failed');\n" +
        'module.exports = { runs: globalThis.runs };\n',
    );
    const err = await rejection(loadModule(file));
    expect(err?.message).to.equal('its first run failed');
  });

  it('says which module is missing', async () => {
    const err = await rejection(loadModule(join(dir, 'absent.js')));
    expect(err?.message).to.match(/absent\.js/);
  });
});
