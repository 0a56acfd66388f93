import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { expect } from 'chai';
import { stderrLogger } from '../../../src/log.js';
import { startOwnProvider } from '../../../src/otel/own-provider.js';
import { SettingsError } from '../../../src/settings.js';
import { freePorts } from '../../helpers/ports.js';
import { withEnv } from '../../helpers/with-env.js';

const NAME = 'OTEL_EXPORTER_PROMETHEUS_PORT';

const quiet = stderrLogger({ level: 'silent' });

/**
 * The port the Prometheus exporter (0.2xx) takes of `value`: it reads the variable itself,
 * `Number()` of the text, NaN and 0 its default, and keeps it in a field of its own until it
 * listens (not started here).
 */
function exporterPort(value: string): number {
  const exporter = withEnv(
    { [NAME]: value },
    () => new PrometheusExporter({ preventServerStart: true }),
  );
  const port: unknown = Reflect.get(exporter, '_port');
  if (typeof port !== 'number') throw new Error(`the exporter keeps no port: ${String(port)}`);
  return port;
}

/** The port register's own endpoint listens on where told `value`, or its refusal's message. */
async function ownPort(value: string): Promise<number | string> {
  const env = { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' };
  let own: Awaited<ReturnType<typeof startOwnProvider>>;
  try {
    own = await startOwnProvider({ ...env, [NAME]: value }, quiet);
  } catch (err) {
    expect(err).to.be.instanceOf(SettingsError);
    return (err as SettingsError).message;
  }
  if (!own) throw new Error('no provider started');
  try {
    const [server] = own.servers;
    if (!server) throw new Error('no Prometheus endpoint');
    if (!server.listening) await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  } finally {
    await own.shutdown();
  }
}

describe('OTEL_EXPORTER_PROMETHEUS_PORT, read as the Prometheus exporter reads it', () => {
  // Decimal digits alone were taken: `+9464` or `0x24f8`, 9464 to the exporter, stopped register.
  it('takes each form the exporter reads as a port, and listens where the exporter would', async () => {
    const [port = 0] = await freePorts(1);
    const forms = [
      String(port),
      ` ${port} `,
      `+${port}`,
      `${port}.0`,
      `${port}e0`,
      `0x${port.toString(16)}`,
      `0b${port.toString(2)}`,
    ];
    for (const value of forms) {
      expect(exporterPort(value), value).to.equal(port);
      expect(await ownPort(value), value).to.equal(port);
    }
  });

  // Carbonscope serves the endpoint itself: 0 is a port the OS picks, said in a warning.
  it('takes 0 in any form as a port the OS picks, where the exporter takes its default', async () => {
    for (const value of ['0', '+0', '0.0', '0x0']) {
      expect(exporterPort(value), value).to.equal(9464);
      expect(await ownPort(value), value)
        .to.be.a('number')
        .above(0);
    }
  });

  // What the exporter would misread, refused with its reading: its default (9464) for what is
  // no number, and as given what no server can listen on.
  for (const [value, read, said] of [
    ['abc', 9464, 'ignores it for its default'],
    ['94 64', 9464, 'ignores it for its default'],
    ['9_464', 9464, 'ignores it for its default'],
    ['9464.5', 9464.5, 'reads it as 9464.5'],
    ['-1', -1, 'reads it as -1'],
    ['99999', 99_999, 'reads it as 99999'],
    ['Infinity', Number.POSITIVE_INFINITY, 'reads it as Infinity'],
  ] as const) {
    it(`refuses ${value}, saying the exporter ${said}`, async () => {
      expect(exporterPort(value)).to.equal(read);
      expect(await ownPort(value)).to.equal(
        `${NAME}: expected a whole number, from 0 to 65535; the Prometheus exporter ${said} (got "${value}")`,
      );
    });
  }
});
