import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { childEnv } from '../helpers/child-env.js';
import { linesOf, runToEnd } from '../helpers/spawn.js';

// A misspelt setting was ignored in silence: ENERGY_SOUCE=rapl ran the estimate, CARBON_ZONES=FR
// priced at DE's, and nothing said so. Real register, real CLI.
const REGISTER = fileURLToPath(new URL('../../src/register.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MISSPELT = { ENERGY_SOUCE: 'rapl', ELECTRICITY_MAPS_KEY: 'sekrit-key-123' };
const TOLD =
  'ENERGY_SOUCE (did you mean ENERGY_SOURCE?), ELECTRICITY_MAPS_KEY (did you mean ' +
  'ELECTRICITY_MAPS_API_KEY?) are not variables carbonscope reads: they are ignored';

const told = (stderr: string) => linesOf(stderr).filter((l) => l.includes('carbonscope reads'));

/** register in a short Node run, metered by the estimate, pushing nowhere, under `env`. */
const underRegister = (env: Record<string, string>) =>
  runToEnd(
    process.execPath,
    ['--import', REGISTER, '-e', 'setTimeout(() => {}, 200)'],
    childEnv({ OTEL_METRICS_EXPORTER: 'none', CARBON_INTENSITY: '300', ...env }),
    { killAfterMs: 20_000 },
  );

describe('misspelt carbonscope variables, at the start', function () {
  this.timeout(30_000);

  it('register names each in one warning, and not the value', async () => {
    const { code, stderr } = await underRegister(MISSPELT);
    expect(code).to.equal(0);
    expect(told(stderr)).to.deep.equal([`carbonscope: warning: ${TOLD}`]);
    expect(stderr).to.not.include('sekrit');
  });

  it('register says nothing where every variable is one it reads', async () => {
    const { stderr } = await underRegister({
      ENERGY_SOURCE: 'estimate',
    });
    expect(told(stderr)).to.deep.equal([]);
  });

  // The OTel SDK says nothing of a slip either: the push went on every 60 s, not every 5 s.
  it("register names a misspelt OTEL_* variable it reads, not the SDK's others", async () => {
    const { stderr } = await underRegister({
      ENERGY_SOURCE: 'estimate',
      OTEL_METRICS_EXPORT_INTERVAL: '5000',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '5000',
    });
    expect(told(stderr)).to.deep.equal([
      'carbonscope: warning: OTEL_METRICS_EXPORT_INTERVAL (did you mean OTEL_METRIC_EXPORT_INTERVAL?) is not a variable carbonscope reads: it is ignored',
    ]);
  });

  // A slip in the exporter's value (not its name): `prometheous` was "ignored", and the user's
  // curl of :9464 was refused with nothing to say that no exporter was left.
  it('register names a misspelt OTEL_METRICS_EXPORTER value, and what follows', async () => {
    const exporterLines = (stderr: string) =>
      linesOf(stderr).filter((l) => l.includes('OTEL_METRICS_EXPORTER'));
    const alone = await underRegister({
      ENERGY_SOURCE: 'estimate',
      OTEL_METRICS_EXPORTER: 'prometheous',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
    });
    expect(alone.code).to.equal(0);
    expect(exporterLines(alone.stderr)).to.deep.equal([
      'carbonscope: warning: OTEL_METRICS_EXPORTER: unknown exporter "prometheous" (did you mean prometheus?): no metrics are exported; it takes otlp, prometheus, console, none',
    ]);
    const beside = await underRegister({
      ENERGY_SOURCE: 'estimate',
      OTEL_METRICS_EXPORTER: 'prometheus,consol',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
    });
    expect(exporterLines(beside.stderr)).to.deep.equal([
      'carbonscope: warning: OTEL_METRICS_EXPORTER: unknown exporter "consol" (did you mean console?) ignored',
    ]);
  });

  // A zone in lower case (`fr`, as a country code is often written) left the application
  // unmetered with "expected a zone key such as DE, FR", the key meant unsaid.
  it('register and the CLI name the zone key a lower-case zone meant', async () => {
    const { stderr } = await underRegister({ ENERGY_SOURCE: 'estimate', CARBON_ZONE: 'fr' });
    expect(linesOf(stderr).filter((l) => l.includes('CARBON_ZONE'))).to.deep.equal([
      'carbonscope: error: carbonscope/register: CARBON_ZONE: expected a zone key such as DE, FR or US-CAL-CISO; did you mean FR? (got "fr"); the application runs unmetered',
    ]);
    const cli = await runToEnd(
      process.execPath,
      [MAIN, 'run', '--zone', 'us-cal-ciso', '--', process.execPath, '-e', ''],
      childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      { killAfterMs: 20_000 },
    );
    expect(cli.code).to.equal(2);
    expect(linesOf(cli.stderr)[0]).to.equal(
      'carbonscope: --zone: expected a zone key such as DE, FR or US-CAL-CISO; did you mean US-CAL-CISO? (got "us-cal-ciso")',
    );
  });

  it('the CLI names them too', async () => {
    const { code, stderr } = await runToEnd(
      process.execPath,
      [MAIN, 'run', '--', process.execPath, '-e', ''],
      childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300', ...MISSPELT }),
      { killAfterMs: 20_000 },
    );
    expect(code).to.equal(0);
    expect(told(stderr)).to.deep.equal([`carbonscope: warning: ${TOLD}`]);
    expect(stderr).to.not.include('sekrit');
  });
});
