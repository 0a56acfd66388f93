import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { EarlyRequestWatch, earlyRequestsText } from '../../../src/http/early-requests.js';
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

  it('says so once as tracking begins, and watches no request after the first', async () => {
    const watch = new EarlyRequestWatch();
    const server = await served();
    watch.watch();
    await get(server);
    // The first request's one call, then none: nothing more per request, before or after.
    expect(watch.watching).to.equal(false);
    await get(server);
    const { logger, lines } = memoryLogger();
    watch.tell(logger, undefined);
    watch.tell(logger, undefined);
    watch.watch();
    expect(watch.watching).to.equal(false);
    expect(warnings(lines)).to.have.length(1);
    expect(warnings(lines)[0]).to.match(
      /^HTTP requests were served before carbonscope began tracking them \(the first \d+ ms before\): they are in no request's figure; begin tracking before the server listens \(await start\(\) then cs\.trackRequests\(\), or await instrumentation\.ready\(\)\)$/,
    );
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

  it("says under register that it tracks from its meter's start", () => {
    expect(earlyRequestsText(42.4, true)).to.equal(
      "HTTP requests were served before carbonscope began tracking them (the first 42 ms before): they are in no request's figure; register tracks them once its meter has started, its power sources probed",
    );
    expect(earlyRequestsText(90_500, false)).to.match(/\(the first 1 min before\)/);
  });
});
