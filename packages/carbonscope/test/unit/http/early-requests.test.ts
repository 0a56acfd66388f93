import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  EarlyRequestWatch,
  earlyRequestsText,
  MAX_EARLY_SERVERS,
} from '../../../src/http/early-requests.js';
import { memoryLogger } from '../energy/scripted.js';

async function listening(): Promise<Server> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function get(server: Server): Promise<void> {
  const { port } = server.address() as AddressInfo;
  await (await fetch(`http://127.0.0.1:${port}/`)).text();
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function warnings(lines: Array<Record<string, unknown>>): string[] {
  return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
}

// Requests a server answered before carbonscope tracked any (listen() before start() and
// trackRequests()) were in no figure, and nothing said so.
describe('requests served before tracking began', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => (s.listening ? close(s) : undefined)));
  });

  async function served(): Promise<Server> {
    const server = await listening();
    servers.push(server);
    return server;
  }

  it('says so once as tracking begins, and watches nothing once it covers every server', async () => {
    const watch = new EarlyRequestWatch();
    const server = await served();
    watch.watch();
    await get(server);
    await get(server);
    const { logger, lines } = memoryLogger();
    watch.tell(logger, undefined);
    // Nothing more per request: a tracking covers them all.
    expect(watch.watching).to.equal(false);
    watch.tell(logger, undefined);
    watch.watch();
    expect(watch.watching).to.equal(false);
    expect(warnings(lines)).to.have.length(1);
    expect(warnings(lines)[0]).to.match(
      /^HTTP requests were served before carbonscope began tracking them \(the first \d+ ms before\): they are in no request's figure; begin tracking before the server listens \(await start\(\) then cs\.trackRequests\(\), or await instrumentation\.ready\(\)\)$/,
    );
  });

  // An application with two servers (an admin port's beside the API's) whose first tracking
  // covers one of them (trackRequests({ servers })): the watch ended there for good, and it
  // remembered only the server of the first request, so neither's early requests were told.
  it('tells of each server as a tracking that covers it begins, and watches on for the others', async () => {
    const watch = new EarlyRequestWatch();
    watch.watch();
    const admin = await served();
    const api = await served();
    await get(admin);
    await get(api);
    const { logger, lines } = memoryLogger();
    watch.tell(logger, new Set([api]));
    expect(warnings(lines)).to.have.length(1);
    expect(watch.watching).to.equal(true);
    // The API's requests are tracked now: no news. A third server's are, until tracked.
    await get(api);
    watch.tell(logger, new Set([api]));
    expect(warnings(lines)).to.have.length(1);
    const metrics = await served();
    await get(metrics);
    watch.tell(logger, undefined);
    expect(warnings(lines)).to.have.length(2);
    expect(watch.watching).to.equal(false);
  });

  it('remembers no more than MAX_EARLY_SERVERS servers at once', async () => {
    const watch = new EarlyRequestWatch();
    watch.watch();
    const many = await Promise.all(Array.from({ length: MAX_EARLY_SERVERS + 1 }, () => served()));
    for (const server of many) await get(server);
    const { logger, lines } = memoryLogger();
    // The last one's requests went untold: beyond the bound.
    watch.tell(logger, new Set([many[MAX_EARLY_SERVERS]]));
    expect(warnings(lines)).to.deep.equal([]);
    watch.tell(logger, new Set([many[0]]));
    expect(warnings(lines)).to.have.length(1);
    watch.tell(logger, undefined);
    expect(warnings(lines)).to.have.length(2);
  });

  it('says nothing where no request came, nor of a server closed since', async () => {
    const quiet = new EarlyRequestWatch();
    quiet.watch();
    const { logger, lines } = memoryLogger();
    quiet.tell(logger, undefined);
    expect(quiet.watching).to.equal(false);

    // A test's stub, served and closed before the start: the next server's request is watched.
    const watch = new EarlyRequestWatch();
    watch.watch();
    const stub = await served();
    await get(stub);
    await close(stub);
    expect(watch.watching).to.equal(true);
    watch.tell(logger, undefined);
    expect(warnings(lines)).to.deep.equal([]);
  });

  it('tells of a later server once the first closed, and only of a server it tracks', async () => {
    const watch = new EarlyRequestWatch();
    watch.watch();
    const stub = await served();
    await get(stub);
    await close(stub);
    const app = await served();
    await get(app);
    const { logger, lines } = memoryLogger();
    watch.tell(logger, new Set([app]));
    expect(warnings(lines)).to.have.length(1);

    // trackRequests({ servers }) leaves another server's requests out: they are no news.
    const other = new EarlyRequestWatch();
    other.watch();
    const mock = await served();
    await get(mock);
    const tracked = await served();
    other.tell(logger, new Set([tracked]));
    expect(warnings(lines)).to.have.length(1);
  });

  // A service's one tracked server (trackRequests({ servers: [http] }), as this project's app
  // does) keeps the watch on for other servers, and each of its requests paid two hash lookups
  // (the remembered servers' map, the covered ones' set) for the life of the process.
  it("passes a covered server's requests at one comparison, and lets it go when it closes", async () => {
    const watch = new EarlyRequestWatch();
    watch.watch();
    const api = await served();
    const { logger, lines } = memoryLogger();
    watch.tell(logger, new Set([api]));
    const inner = watch as unknown as { covered: WeakSet<object>; last: unknown };
    const has = inner.covered.has.bind(inner.covered);
    let asked = 0;
    inner.covered.has = (server: object) => {
      asked++;
      return has(server);
    };
    for (let i = 0; i < 5; i++) await get(api);
    expect(asked).to.equal(1);
    expect(inner.last).to.equal(api);
    await close(api);
    expect(inner.last).to.equal(undefined);
    // Another server's request is still watched, and told of by the tracking that covers it.
    const admin = await served();
    await get(admin);
    watch.tell(logger, new Set([admin]));
    expect(warnings(lines)).to.have.length(1);
    expect(watch.watching).to.equal(true);
  });

  // A closed server can listen again (the same object): it stays covered, and was kept as the
  // last one after its second close, the listener that let it go having fired at its first.
  it('passes covered servers that alternate, and lets one go at each of its closes', async () => {
    const watch = new EarlyRequestWatch();
    watch.watch();
    const api = await served();
    const admin = await served();
    const { logger, lines } = memoryLogger();
    watch.tell(logger, new Set([api]));
    watch.tell(logger, new Set([admin]));
    const inner = watch as unknown as { early: Map<object, number>; last: unknown };
    for (let i = 0; i < 3; i++) {
      await get(api);
      await get(admin);
    }
    expect(inner.early.size).to.equal(0);
    for (let round = 0; round < 2; round++) {
      if (!api.listening) await new Promise<void>((done) => api.listen(0, '127.0.0.1', done));
      await get(api);
      expect(inner.last).to.equal(api);
      await close(api);
      expect(inner.last, `after close ${round + 1}`).to.equal(undefined);
    }
    expect(inner.early.size).to.equal(0);
    expect(warnings(lines)).to.deep.equal([]);
  });

  it('says how long before, in ms or in minutes', () => {
    expect(earlyRequestsText(42.4)).to.match(/\(the first 42 ms before\)/);
    expect(earlyRequestsText(90_500)).to.match(/\(the first 1 min before\)/);
  });
});
