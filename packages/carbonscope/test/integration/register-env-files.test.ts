import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { childEnv } from '../helpers/child-env.js';
import { runToEnd } from '../helpers/spawn.js';
import { tempDir } from '../unit/energy/sources/helpers.js';

// An application's .env, read by its own first line (`import 'dotenv/config'`), comes after
// `--import carbonscope/register` has read carbonscope's settings: a CARBON_ZONE there was
// silently not in effect (the grid priced as DE's at 342 g/kWh, not the .env's FR at 56) while
// its OTEL_* variables, read at the first sample, were. Real dotenv, real register.
const REGISTER = fileURLToPath(new URL('../../src/register.js', import.meta.url));
const INDEX = new URL('../../src/index.js', import.meta.url).href;
const DOTENV_CONFIG = import.meta.resolve('dotenv/config');
/** For `-r`, which the child resolves from its own folder, where no dotenv is installed. */
const DOTENV_CONFIG_CJS = createRequire(import.meta.url).resolve('dotenv/config');

/** The lines of register's warning that names variables set after it read its settings. */
const setLater = (stderr: string) =>
  stderr.split('\n').filter((l) => l.includes('after carbonscope read its settings'));

describe('carbonscope/register beside an environment file', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => void;
  let envFile: string;
  let script: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('register-env-files'));
    envFile = join(dir, '.env');
    // A key's value must never be shown: it stands for every secret a .env holds.
    writeFileSync(
      envFile,
      'CARBON_ZONE=FR\nCARBON_INTENSITY=56\nELECTRICITY_MAPS_API_KEY=sekrit-key-123\n',
    );
    // stop() takes the first sample: register has chosen where to export once it resolves.
    script = join(dir, 'app.mjs');
    writeFileSync(
      script,
      `import ${JSON.stringify(DOTENV_CONFIG)};\nimport { stop } from ${JSON.stringify(INDEX)};\nawait stop();\nconsole.log('done');\n`,
    );
  });
  afterEach(() => cleanup());

  const run = (args: string[], env: Record<string, string> = {}) =>
    runToEnd(
      process.execPath,
      [...args, script],
      childEnv({
        OTEL_METRICS_EXPORTER: 'none',
        DOTENV_CONFIG_PATH: envFile,
        DOTENV_CONFIG_QUIET: 'true',
        ...env,
      }),
      { killAfterMs: 20_000 },
    );

  it('warns once, naming the variables the application loaded after register started', async () => {
    const r = await run(['--import', REGISTER]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = setLater(r.stderr);
    expect(lines, r.stderr).to.have.length(1);
    for (const name of ['CARBON_ZONE', 'CARBON_INTENSITY', 'ELECTRICITY_MAPS_API_KEY']) {
      expect(lines[0]).to.include(name);
    }
    expect(lines[0]).to.include('--env-file');
    expect(r.stderr).not.to.include('sekrit');
    expect(r.stderr).not.to.include('=56');
  });

  it('warns of a .env the application loads after its first sample, by its stop at the latest', async () => {
    // An application awaiting its config (or one whose modules take longer to load than the first
    // sample's 0.1 s, as a loaded machine makes them) reads its .env after the first sample.
    writeFileSync(
      script,
      `import { stop } from ${JSON.stringify(INDEX)};\nawait new Promise((r) => setTimeout(r, 400));\nprocess.loadEnvFile(${JSON.stringify(envFile)});\nawait stop();\n`,
    );
    const r = await run(['--import', REGISTER]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = setLater(r.stderr);
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.include('CARBON_ZONE');
    expect(r.stderr).not.to.include('sekrit');
  });

  it('says nothing where the file is read before register (--env-file, -r dotenv/config)', async () => {
    for (const args of [
      [`--env-file=${envFile}`, '--import', REGISTER],
      ['-r', DOTENV_CONFIG_CJS, '--import', REGISTER],
    ]) {
      const r = await run(args);
      expect(r.code, r.stderr).to.equal(0);
      expect(setLater(r.stderr), `${args.join(' ')}\n${r.stderr}`).to.deep.equal([]);
    }
  });

  it('says nothing where the environment already held them (dotenv overrides nothing)', async () => {
    const r = await run(['--import', REGISTER], {
      CARBON_ZONE: 'FR',
      CARBON_INTENSITY: '56',
      ELECTRICITY_MAPS_API_KEY: 'other-key',
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(setLater(r.stderr), r.stderr).to.deep.equal([]);
  });
});
