import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { restartRefusedExporters } from '../../../src/otel/refused-exporters.js';
import { freePort } from '../../helpers/ports.js';
import { memoryLogger } from '../energy/scripted.js';

/** A server holding `port` on every address, as carbonscope's own endpoint held it. */
async function holding(port: number): Promise<Server> {
  const server = createServer().listen(port);
  await once(server, 'listening');
  return server;
}

/** An exporter started as NodeSDK starts it, once its start has ended (listening, or refused). */
async function exporterOn(port: number): Promise<PrometheusExporter> {
  let exporter: PrometheusExporter | undefined;
  await new Promise<void>((done) => {
    exporter = new PrometheusExporter({ port }, () => done());
  });
  return exporter as PrometheusExporter;
}

/** An exporter-shaped reader whose start is kept where it cannot be read. */
class ServerlessReader extends MetricReader {
  startServer(): Promise<void> {
    return Promise.resolve();
  }
  getMetricsRequestHandler(): void {}
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** An application's provider whose exporter was refused `port`, held still; and a logger. */
async function refused() {
  const port = await freePort();
  const held = await holding(port);
  const provider = new MeterProvider({ readers: [await exporterOn(port)] });
  const freed = async () => {
    held.close();
    await once(held, 'close');
  };
  return { port, held, freed, provider, ...memoryLogger() };
}

const scrape = (port: number) =>
  fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => r.text(),
    (err: Error & { cause?: { code?: string } }) => `refused ${err.cause?.code}`,
  );

describe("the application's Prometheus exporter, refused its port by carbonscope's own", () => {
  it('is started again once the port is free, and serves its provider', async () => {
    const { port, freed, provider, logger, lines } = await refused();
    try {
      provider.getMeter('app').createCounter('app_hits').add(2);
      await freed();
      expect(await scrape(port)).to.equal('refused ECONNREFUSED');
      await restartRefusedExporters(provider, [port], logger);
      expect(await scrape(port)).to.match(/^app_hits_total(\{[^}]*\})? 2$/m);
      expect(lines.map((l) => l.msg)).to.deep.equal([
        "the application's Prometheus exporter could not listen while carbonscope's own endpoint held the port: started again, it serves carbonscope's metrics too",
      ]);
    } finally {
      await provider.shutdown();
    }
  });

  it('one that still cannot listen is one warning naming why and the fix', async () => {
    const { port, held, provider, logger, lines } = await refused();
    try {
      await restartRefusedExporters(provider, [port], logger);
      expect(lines).to.have.length(1);
      expect(lines[0]?.level).to.equal(40);
      expect(lines[0]?.msg).to.match(
        /could not listen \(listen EADDRINUSE.*\): nothing serves its metrics, nor carbonscope's; start the application's SDK before/,
      );
    } finally {
      held.close();
      await provider.shutdown();
    }
  });

  it('leaves alone one that listens, and one the application serves itself (preventServerStart)', async () => {
    const [port, other] = [await freePort(), await freePort()];
    const listening = await exporterOn(port);
    const served = new PrometheusExporter({ port: other, preventServerStart: true });
    const provider = new MeterProvider({ readers: [listening, served] });
    const { logger, lines } = memoryLogger();
    try {
      await restartRefusedExporters(provider, [port], logger);
      expect(await scrape(other)).to.equal('refused ECONNREFUSED');
      expect(await scrape(port)).to.include('# ');
      expect(lines).to.deep.equal([]);
    } finally {
      await provider.shutdown();
    }
  });

  it("reads nothing of a provider that is not the SDK's", async () => {
    const { logger, lines } = memoryLogger();
    expect(await restartRefusedExporters({ getMeter: () => undefined }, [9464], logger)).to.equal(
      false,
    );
    expect(await restartRefusedExporters(undefined, [9464], logger)).to.equal(false);
    expect(lines).to.deep.equal([]);
  });

  it('leaves alone one refused a port carbonscope did not hold: another process holds it', async () => {
    const { port, freed, provider, logger, lines } = await refused();
    const ours = await freePort();
    try {
      await freed();
      expect(await restartRefusedExporters(provider, [ours], logger)).to.equal(true);
      expect(await scrape(port)).to.equal('refused ECONNREFUSED');
      expect(lines).to.deep.equal([]);
    } finally {
      await provider.shutdown();
    }
  });

  // A later SDK that keeps its readers, or the exporter its start, under other names: not read
  // as "none refused", or a port nothing serves would go unsaid (the caller then probes it).
  it('says it could not read where a reader or its start is kept under another name', async () => {
    const { logger, lines } = memoryLogger();
    const renamed = new MeterProvider({ readers: [new ServerlessReader()] });
    const unlisted = {
      _sharedState: { metricCollectors: [{ _reader: new ServerlessReader() }] },
    };
    try {
      expect(await restartRefusedExporters(renamed, [9464], logger)).to.equal(false);
      expect(await restartRefusedExporters(unlisted, [9464], logger)).to.equal(false);
      expect(lines).to.deep.equal([]);
    } finally {
      await renamed.shutdown();
    }
  });
});
