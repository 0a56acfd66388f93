/**
 * Cost of the grid service on the meter's hot path, against baselines in the same run:
 *   - ns per peek() of the default zone (with a key, value cached) vs a plain Map lookup and vs
 *     a stub GridIntensity whose peek returns a constant;
 *   - bytes allocated per peek() (heap growth over many calls, GC disabled by measuring between
 *     forced collections when --expose-gc is given);
 *   - ns per awaited current() of the cached default zone vs awaiting a resolved constant.
 * Run: npx tsc -p . && node --expose-gc dist/test/bench/grid.bench.js
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { IntensityReading } from 'carbonscope';
import { createGridIntensity } from 'carbonscope';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';

const OPS = Number(process.env.BENCH_OPS ?? 1_000_000);
const ROUNDS = 5;
const gc = (globalThis as { gc?: () => void }).gc;

function best(fn: () => number): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ROUNDS; i++) min = Math.min(min, fn());
  return min;
}

function nsPerOp(op: () => unknown): number {
  return best(() => {
    const start = performance.now();
    for (let i = 0; i < OPS; i++) op();
    return ((performance.now() - start) * 1e6) / OPS;
  });
}

async function nsPerAsyncOp(op: () => Promise<unknown>): Promise<number> {
  const n = OPS / 10;
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await op();
    min = Math.min(min, ((performance.now() - start) * 1e6) / n);
  }
  return min;
}

function bytesPerOp(op: () => unknown): number | undefined {
  if (!gc) return undefined;
  gc();
  const before = process.memoryUsage().heapUsed;
  const n = 100_000; // small enough that a young-generation GC is unlikely mid-run
  for (let i = 0; i < n; i++) op();
  return (process.memoryUsage().heapUsed - before) / n;
}

async function main(): Promise<void> {
  // A loopback stand-in answering the documented latest shape, so the service runs with a key.
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      '{"zone":"DE","carbonIntensity":322,"datetime":"2024-03-01T10:00:00.000Z","isEstimated":false,"estimationMethod":null}',
    );
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const { port } = upstream.address() as AddressInfo;
  const grid = createGridIntensity({
    config: loadConfig({
      ELECTRICITY_MAPS_API_KEY: 'bench-key',
      ELECTRICITY_MAPS_BASE_URL: `http://127.0.0.1:${port}/v3`,
    }),
    logger: pino({ level: 'silent' }),
  });
  await grid.current();

  const constant: IntensityReading | undefined = grid.peek();
  const map = new Map([['DE', constant]]);
  const stubPeek = () => constant;
  let sink: unknown;

  const mapNs = nsPerOp(() => {
    sink = map.get('DE');
  });
  const stubNs = nsPerOp(() => {
    sink = stubPeek();
  });
  const peekNs = nsPerOp(() => {
    sink = grid.peek();
  });
  const peekBytes = bytesPerOp(() => {
    sink = grid.peek();
  });
  const resolvedNs = await nsPerAsyncOp(() => Promise.resolve(constant));
  const currentNs = await nsPerAsyncOp(() => grid.current());
  void sink;

  const row = (name: string, ns: number, base: number) =>
    console.log(
      `${name.padEnd(40)} ${ns.toFixed(1).padStart(8)} ns/op  ${(ns / base).toFixed(2)}x`,
    );
  console.log(`grid bench, ${OPS} ops, best of ${ROUNDS}`);
  row('Map.get (baseline)', mapNs, mapNs);
  row('stub peek() returning a constant', stubNs, mapNs);
  row('grid.peek() default zone, cached', peekNs, mapNs);
  row('await Promise.resolve (baseline)', resolvedNs, resolvedNs);
  row('await grid.current() default zone, cached', currentNs, resolvedNs);
  console.log(
    peekBytes === undefined
      ? 'bytes/peek: run with node --expose-gc to measure'
      : `bytes allocated per peek(): ${peekBytes.toFixed(2)}`,
  );
  upstream.close();
}

await main();
