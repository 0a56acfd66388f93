import { existsSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NetInstrumentation } from '@opentelemetry/instrumentation-net';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import {
  readWorker,
  serveThePrimary,
  socketFolder,
  socketPath,
} from '../../src/otel/cluster-sockets.js';
import { startOwnProvider } from '../../src/otel/own-provider.js';
import { freePort } from '../helpers/ports.js';
import { memoryLogger } from '../unit/energy/scripted.js';

/** A primary pid no process has: the folder is this test's alone. */
const FOLDER = socketFolder(910_000_000 + process.pid);

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * An application whose own SDK runs the http and net instrumentations, as NodeSDK with the
 * auto-instrumentations does, while carbonscope serves its own Prometheus endpoint (a scrape every
 * 15 s, for as long as the process runs) and, in a cluster's primary, reads each worker's socket.
 */
describe("scrapes of carbonscope's own endpoint under the app's http and net instrumentations", function () {
  this.timeout(20_000);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('app');
  let unregister: () => void = () => undefined;

  /** Registers the app's instrumentations; `http` its http instrumentation's configuration. */
  const instrument = (http: ConstructorParameters<typeof HttpInstrumentation>[0] = {}) => {
    unregister();
    unregister = registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [new HttpInstrumentation(http), new NetInstrumentation()],
    });
    // They patch a module as it is required, as a CommonJS application requires it: the ESM
    // imports here took the modules before.
    const load = createRequire(import.meta.url);
    load('node:http');
    load('node:net');
  };

  before(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });

  after(async () => {
    unregister();
    await provider.shutdown();
    trace.disable();
    context.disable();
    rmSync(FOLDER, { recursive: true, force: true });
  });

  beforeEach(() => exporter.reset());

  const spanNames = () => exporter.getFinishedSpans().map((s) => s.name);

  // The primary reads its workers within the scrape's request: each read was an `ipc.connect`
  // span, a child of the scrape's, one per worker per scrape.
  it("reads a cluster worker's socket with no span, inside the scrape's request or not", async () => {
    instrument();
    const collect = async () => ({ text: 'up 1\n', instance: 'w1' });
    const stop = serveThePrimary(FOLDER, collect, memoryLogger().logger);
    try {
      await until('the socket', () => existsSync(socketPath(FOLDER, process.pid)));
      const inScrape = await tracer.startActiveSpan('GET', { kind: SpanKind.SERVER }, (span) =>
        readWorker(FOLDER, process.pid, 2000).finally(() => span.end()),
      );
      const alone = await readWorker(FOLDER, process.pid, 2000);
      expect([inScrape?.text, alone?.text]).to.deep.equal(['up 1\n', 'up 1\n']);
    } finally {
      stop();
    }
    expect(spanNames()).to.deep.equal(['GET']);
  });

  const listening = (server: Server) =>
    server.listening
      ? Promise.resolve()
      : new Promise((resolve) => server.once('listening', resolve));
  const scrape = async (url: string) => {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status;
  };
  const serverSpans = () =>
    exporter
      .getFinishedSpans()
      .filter((s) => s.kind === SpanKind.SERVER)
      .map((s) => s.attributes['url.path'] ?? s.attributes['http.target']);

  // The http instrumentation starts an incoming request's span from its headers alone, on
  // ROOT_CONTEXT: a suppressed context where the endpoint listened, which Node carries to each
  // request, is never looked at. Only the app's own configuration leaves the scrapes out.
  it("records each scrape of the own endpoint unless the app's hook leaves it out", async () => {
    const port = await freePort();
    const env = {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    };
    const own = await startOwnProvider(env, memoryLogger().logger);
    const app = createServer((_req, res) => res.end('ok'));
    app.listen(0, '127.0.0.1');
    try {
      await Promise.all([...(own?.servers ?? []), app].map(listening));
      const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/app`;
      const scrapes = async () => {
        for (let i = 0; i < 3; i++) {
          expect(await scrape(`http://127.0.0.1:${port}/metrics`)).to.equal(200);
        }
        await scrape(appUrl);
      };
      instrument();
      await scrapes();
      expect(serverSpans()).to.deep.equal(['/metrics', '/metrics', '/metrics', '/app']);
      exporter.reset();
      // The README's remedy, as written there (the endpoint's port).
      instrument({
        ignoreIncomingRequestHook: (req: IncomingMessage) =>
          req.socket.localPort === Number(env.OTEL_EXPORTER_PROMETHEUS_PORT || 9464),
      });
      await scrapes();
      expect(serverSpans()).to.deep.equal(['/app']);
    } finally {
      app.close();
      await own?.shutdown();
    }
  });
});
