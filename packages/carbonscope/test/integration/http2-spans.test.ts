import { once } from 'node:events';
import type * as Http2 from 'node:http2';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import type { LentFigures, OperationTracker } from '../../src/energy/index.js';
import { trackHttp2Streams } from '../../src/http/http2-streams.js';
import { setRoute } from '../../src/http/index.js';
import { captureSpan, SPAN_ATTRIBUTES } from '../../src/otel/spans.js';
import type { Carbonscope } from '../../src/runtime/carbonscope.js';
import { steadyCarbonscope } from '../unit/energy/scripted.js';

const require = createRequire(import.meta.url);
// Loaded through require, as an application loads them: @grpc/grpc-js after the instrumentation.
const http2 = require('node:http2') as typeof Http2;
type GrpcJs = typeof import('@grpc/grpc-js');

type Raw = Buffer;
const same = (b: Raw) => b;
const LIST = {
  path: '/demo.Items/List',
  requestStream: false,
  responseStream: true,
  requestSerialize: same,
  requestDeserialize: same,
  responseSerialize: same,
  responseDeserialize: same,
};

async function until(ok: () => boolean): Promise<void> {
  for (let t = 0; t < 400 && !ok(); t++) await new Promise((r) => setTimeout(r, 5));
}

/** A GET of `path` over h2c, read to its end: its `:status`. */
async function get(port: number, path: string): Promise<number> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const req = session.request({ ':path': path });
    const [headers] = (await once(req, 'response')) as [Http2.IncomingHttpHeaders];
    req.resume();
    await once(req, 'end');
    return Number(headers[':status']);
  } finally {
    session.close();
  }
}

/**
 * HTTP/2 servers traced as applications trace them (no OTel instrumentation makes an HTTP/2
 * server span: the handler starts one, or @opentelemetry/instrumentation-grpc does): a request's
 * figures must reach the span its answer was made in, held until they are settled.
 */
describe('operation figures on HTTP/2 spans (compat, core API, @grpc/grpc-js)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const grpcInstrumentation = new GrpcInstrumentation();
  let unregister: () => void;
  let cs: Carbonscope;
  const settled: LentFigures[] = [];

  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    unregister = registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [grpcInstrumentation],
    });
    cs = await steadyCarbonscope({ captureContext: captureSpan });
    cs.trackRequests();
  });

  after(async () => {
    await cs.stop();
    unregister();
    grpcInstrumentation.disable();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  beforeEach(() => {
    exporter.reset();
    settled.length = 0;
  });

  const servers = (): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);

  /** Settles what ended; the span(s) held for it are then exported with its figures. */
  async function settle(route: string): Promise<LentFigures> {
    await until(() => cs.trackRequests().inFlight === 0);
    // The server spans ended, but wait for the figures: nothing exported yet.
    expect(servers()).to.have.length(0);
    cs.meter.sampleNow();
    await until(() => settled.some((f) => f.operation === route) && servers().length > 0);
    const footprint = settled.find((f) => f.operation === route);
    expect(footprint?.provisional).to.equal(false);
    expect(footprint?.joules).to.be.above(0);
    return footprint as LentFigures;
  }

  function expectFigures(span: ReadableSpan, footprint: LentFigures): void {
    expect(span.attributes[SPAN_ATTRIBUTES.energy]).to.equal(footprint.joules);
    expect(span.attributes[SPAN_ATTRIBUTES.emissions]).to.equal(footprint.grams);
  }

  // Read by an onEnd listener, each request has a footprint built, which its span is given; by
  // onSettled's alone, none is, and its span is set from the lent figures (settleLent).
  for (const via of ['onEnd', 'onSettled'] as const) {
    describe(`figures read by ${via}`, () => {
      let unsubscribe: () => void;
      before(() => {
        unsubscribe =
          via === 'onEnd'
            ? cs.onEnd((f) => settled.push(f))
            : cs.onSettled((f) => settled.push({ ...f })); // lent for the call: copied
      });
      after(() => unsubscribe());
      it("an h2c (req, res) handler's own server span gets its request's figures", async () => {
        const tracer = trace.getTracer('app');
        const server = http2.createServer((req, res) => {
          tracer.startActiveSpan('GET /h2/:x', { kind: SpanKind.SERVER }, (span: Span) => {
            res.on('close', () => span.end());
            setRoute(req, '/h2/:x');
            // Answered later, in the span's context, as an async handler answers.
            setTimeout(() => res.end('ok'), 5);
          });
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        try {
          expect(await get((server.address() as AddressInfo).port, '/h2/1')).to.equal(200);
          const footprint = await settle('/h2/:x');
          const [span] = servers();
          expect(span.name).to.equal('GET /h2/:x');
          expectFigures(span, footprint);
        } finally {
          server.close();
        }
      });

      it("a core-API stream's span, active where it responds, gets its figures", async () => {
        const tracer = trace.getTracer('app');
        const server = http2.createServer();
        server.on('stream', (stream) => {
          tracer.startActiveSpan('GET /core', { kind: SpanKind.SERVER }, (span: Span) => {
            stream.on('close', () => span.end());
            setRoute(stream, '/core');
            stream.respond({ ':status': 201 });
            stream.end('made');
          });
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        try {
          expect(await get((server.address() as AddressInfo).port, '/core')).to.equal(201);
          const footprint = await settle('/core');
          expectFigures(servers()[0], footprint);
        } finally {
          server.close();
        }
      });

      // A batch answered in one span (a queue flushed on a timer, in the first request's context):
      // each request claimed the span, and the last settled overwrote the others' figures on it.
      it('streams answered in one span: the first to answer keeps it, with its figures', async () => {
        const tracer = trace.getTracer('app');
        const pending: Http2.ServerHttp2Stream[] = [];
        const server = http2.createServer();
        server.on('stream', (stream, headers) => {
          setRoute(stream, String(headers[':path']));
          pending.push(stream);
          if (pending.length < 2) return;
          pending.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
          tracer.startActiveSpan('flush', { kind: SpanKind.SERVER }, (span: Span) => {
            for (const s of pending) {
              s.respond({ ':status': 200 });
              s.end();
            }
            span.end();
          });
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        const ask = async (path: string) => {
          const req = session.request({ ':path': path });
          req.resume();
          await once(req, 'end');
        };
        try {
          // The first alone through a sample whose interval used CPU, then both through the next:
          // their figures differ, so the span's tells whose it is (asked at once, the two shared
          // every interval equally and were often the same to the bit).
          const first = ask('/first');
          await until(() => pending.length === 1);
          for (const end = performance.now() + 5; performance.now() < end; );
          cs.meter.sampleNow();
          await Promise.all([first, ask('/second')]);
          await until(() => cs.trackRequests().inFlight === 0);
          cs.meter.sampleNow();
          await until(() => settled.length === 2 && servers().length > 0);
          const firstFigures = settled.find((f) => f.operation === '/first') as LentFigures;
          const second = settled.find((f) => f.operation === '/second') as LentFigures;
          expect(firstFigures.joules).to.not.equal(second.joules);
          expectFigures(servers()[0], firstFigures);
        } finally {
          session.close();
          server.close();
        }
      });

      it("a server-streaming gRPC call's figures land on instrumentation-grpc's span", async () => {
        const grpc = require('@grpc/grpc-js') as GrpcJs;
        const server = new grpc.Server();
        server.addService(
          { List: LIST },
          {
            List: (call: { write(b: Raw): void; end(): void }) => {
              setTimeout(() => {
                for (let i = 0; i < 3; i++) call.write(Buffer.from('x'));
                call.end();
              }, 5);
            },
          },
        );
        const port = await new Promise<number>((resolve, reject) =>
          server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
            err ? reject(err) : resolve(p),
          ),
        );
        const Items = grpc.makeGenericClientConstructor({ List: LIST }, 'Items');
        const client = new Items(
          `127.0.0.1:${port}`,
          grpc.credentials.createInsecure(),
        ) as InstanceType<typeof Items> & { List(b: Raw): NodeJS.EventEmitter };
        try {
          const call = client.List(Buffer.from('a'));
          call.on('data', () => {});
          await once(call, 'end');
          const footprint = await settle('/demo.Items/List');
          const spans = servers();
          expect(spans.map((s) => s.name)).to.deep.equal(['grpc.demo.Items/List']);
          expectFigures(spans[0], footprint);
        } finally {
          client.close();
          server.forceShutdown();
        }
      });
    });
  }
});

describe('http2: streams capture their answer context only once a context can be active', () => {
  const tracker = {
    begin: () => ({ rename() {}, end() {}, captureContext() {} }),
  } as unknown as OperationTracker;

  async function ownRespond(active: () => boolean, sweep = false): Promise<boolean> {
    const streams = trackHttp2Streams(tracker, { operation: 'request', captureContext: active });
    const server = http2.createServer();
    let own = false;
    server.on('stream', (stream) => {
      own = Object.hasOwn(stream, 'respond');
      stream.respond({ ':status': 204 });
      stream.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      await get(port, '/');
      if (sweep) {
        streams.sweep();
        await get(port, '/');
      }
      return own;
    } finally {
      streams.stop();
      server.close();
    }
  }

  it('no context manager: a stream is left as Node made it', async () => {
    expect(await ownRespond(() => false)).to.equal(false);
  });

  it('a context manager registered: each stream captures where it answers', async () => {
    expect(await ownRespond(() => true)).to.equal(true);
  });

  it('a process that served no HTTP/2 stream is never asked, at any sweep', () => {
    let asked = 0;
    const streams = trackHttp2Streams(tracker, {
      operation: 'request',
      captureContext: () => ++asked > 0,
    });
    streams.sweep();
    streams.sweep();
    streams.stop();
    expect(asked).to.equal(0);
  });

  it('one registered after the first stream is found at the next sweep', async () => {
    let registered = false;
    const active = () => {
      const was = registered;
      registered = true;
      return was;
    };
    expect(await ownRespond(active, true)).to.equal(true);
  });
});
