import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const SOAK = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'soak.js');

// At a closed port: a soak that started anyway spawns no server and ends at once.
const NOWHERE = '--url=http://127.0.0.1:9';

/** The soak run with `args`, stopped after 10 s. */
function soak(...args: string[]) {
  return spawnSync(process.execPath, [SOAK, ...args, NOWHERE], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

describe("bench: the soak's arguments", () => {
  // `--help` once started a default soak of ~7 minutes (2026-12-07): a flag it does not know
  // was dropped without a word.
  it('--help prints its flags and exits 0 without starting a soak', () => {
    const r = soak('--help');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/--seconds=/);
    expect(r.stdout).to.match(/--warmup=/);
    expect(r.stdout).not.to.match(/warm-up \+/);
  });

  it('refuses an argument it does not know, in one line, exit 2', () => {
    const r = soak('--second=600');
    expect(r.status).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/--second=600/);
  });
});
