import { AsyncLocalStorage } from 'node:async_hooks';
import { scrypt } from 'node:crypto';
import { readFile } from 'node:fs';
import { createGzip, gunzip, gzip, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { type PoolAccount, PoolWork } from '../../../src/energy/pool-work.js';

const account = (): PoolAccount & { closed: boolean } => ({ poolMs: 0, closed: false });

/** Real jobs on libuv's pool, each sent out in its account's context. */
describe("which operation's work is out on libuv's pool", () => {
  const storage = new AsyncLocalStorage<PoolAccount>();
  let pool: PoolWork;
  beforeEach(() => {
    pool = new PoolWork(
      () => performance.now(),
      () => storage.getStore(),
    );
    pool.start();
  });
  afterEach(() => pool.stop());

  it("charges a crypto job's and a zlib stream's time out to the context that sent it", async () => {
    const a = account();
    const b = account();
    const idle = account();
    await Promise.all([
      storage.run(a, () => new Promise((r) => scrypt('pw', 'salt', 64, { N: 2 ** 14 }, r))),
      storage.run(b, () => new Promise((r) => gzip(Buffer.alloc(4e6, 7), r))),
      // A file read waits on the disk: not counted as pool CPU.
      storage.run(idle, () => new Promise((r) => readFile(import.meta.filename ?? '', r))),
    ]);
    expect(a.poolMs).to.be.above(0);
    expect(b.poolMs).to.be.above(0);
    expect(idle.poolMs).to.equal(0);
  });

  it('charges a settled operation nothing, and forgets its jobs at the next sample', async () => {
    const a = account();
    const sent = storage.run(a, () => new Promise((r) => gzip(Buffer.alloc(4e6, 7), r)));
    a.closed = true; // settled while its job was out
    await sent;
    expect(a.poolMs).to.equal(0);
    pool.forgetSettled();
    expect(pool.size).to.equal(0);
  });

  it("leaves out a zlib stream's wait for its next write: no chunk is out then", async () => {
    const a = account();
    const stream = storage.run(a, () => createGzip());
    stream.resume();
    await storage.run(a, () => new Promise((r) => stream.write(Buffer.alloc(1e4, 7), r)));
    await new Promise((r) => setTimeout(r, 300)); // the stream waits for the app, not the pool
    await storage.run(a, () => new Promise((r) => stream.end(Buffer.alloc(1e4, 7), () => r(0))));
    // Its chunks took a few ms on the pool; 300 ms between them were no one's work.
    expect(a.poolMs).to.be.above(0).and.below(150);
  });

  it('charges a crypto job still out at a sample, and no zlib stream that failed', async () => {
    const a = account();
    const sent = storage.run(
      a,
      () => new Promise((r) => scrypt('pw', 'salt', 64, { N: 2 ** 14 }, r)),
    );
    pool.chargeOut();
    const soFar = a.poolMs;
    await sent;
    expect(a.poolMs).to.be.above(soFar);
    // A corrupt gzip: the stream's error callback leaves its chunk on the handle, yet none is out.
    const head = gzipSync(Buffer.alloc(1e5, 1)).subarray(0, 20);
    const corrupt = Buffer.concat([head, Buffer.alloc(100, 0xff)]);
    await storage.run(a, () => new Promise((r) => gunzip(corrupt, r)));
    const done = a.poolMs;
    await new Promise((r) => setTimeout(r, 300));
    pool.chargeOut();
    expect(a.poolMs).to.be.below(done + 100);
  });

  it('sees no job sent outside any operation', async () => {
    await new Promise((r) => scrypt('pw', 'salt', 64, { N: 2 ** 10 }, r));
    expect(pool.size).to.equal(0);
  });
});
