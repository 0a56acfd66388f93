import { expect } from 'chai';
import {
  MIG_QUERY_ARGS,
  parseMigModes,
  queryMigModes,
} from '../../../../src/energy/gpu-share/index.js';
import { fixtureText, tempDir, writeFakeBinary } from '../sources/helpers.js';

describe("energy/gpu-share: each GPU's MIG mode, asked once", () => {
  it("reads the H200's answer, with its header and other columns (call1/smi-extra.txt)", () => {
    // The capture asked for more fields, with a header; the run asks for two, without one.
    const modes = parseMigModes(fixtureText('h200/call1/smi-extra.txt'));
    expect([...modes]).to.deep.equal([[0, 'disabled']]);
  });

  it('takes Enabled, Disabled and a GPU without MIG ([N/A]); leaves out what is no GPU line', () => {
    const modes = parseMigModes('0, Enabled\n1, [N/A]\n2, Disabled\n3, Unknown Error\n\n');
    expect([...modes]).to.deep.equal([
      [0, 'enabled'],
      [1, 'disabled'],
      [2, 'disabled'],
    ]);
    const unknownField = parseMigModes('Field "mig.mode.current" is not a valid field to query.');
    expect(modes.get(3)).to.equal(undefined);
    expect(unknownField.size).to.equal(0);
  });

  it('asks nvidia-smi for index and mode only, without a header', async () => {
    const { dir, cleanup } = tempDir('mig');
    try {
      const binary = writeFakeBinary(
        dir,
        'nvidia-smi',
        "console.log(args.join(' ') === '--query-gpu=index,mig.mode.current --format=csv,noheader' ? '0, Disabled\\n1, Enabled' : 'bad args'); process.exit(0);",
      );
      expect(MIG_QUERY_ARGS).to.deep.equal([
        '--query-gpu=index,mig.mode.current',
        '--format=csv,noheader',
      ]);
      expect([...(await queryMigModes(binary, 5000))]).to.deep.equal([
        [0, 'disabled'],
        [1, 'enabled'],
      ]);
    } finally {
      cleanup();
    }
  });

  it('answers nothing known, never an error, when nvidia-smi fails, is absent or hangs', async () => {
    const { dir, cleanup } = tempDir('mig');
    try {
      const failing = writeFakeBinary(
        dir,
        'nvidia-smi',
        `console.log('Field "mig.mode.current" is not a valid field to query.'); process.exit(2);`,
      );
      expect((await queryMigModes(failing, 5000)).size).to.equal(0);
      expect((await queryMigModes('/nonexistent/nvidia-smi', 5000)).size).to.equal(0);
      // Never exits: only the query's own timeout ends the wait.
      const hung = writeFakeBinary(dir, 'hung-smi', 'setInterval(() => {}, 1000);');
      expect((await queryMigModes(hung, 300)).size).to.equal(0);
    } finally {
      cleanup();
    }
  });
});
