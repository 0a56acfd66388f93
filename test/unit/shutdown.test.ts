import { once } from 'node:events';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { appBegins, appEnds, wasCutByShutdown } from '../../src/http/shutdown-cut.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { installShutdown, type Shutdown } from '../../src/shutdown.js';
import { captureLogger } from '../helpers/log.js';
import { waitFor } from '../helpers/wait.js';

/** Reads from `socket` until `text` has arrived, or the socket ends; resolves with all read. */
function readUntil(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const done = () => resolve(got);
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.includes(text)) done();
    });
    socket.once('close', done);
    socket.once('error', done);
  });
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

/** A server on a free loopback port, answering with `handler`. */
async function listening(handler: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** The shutdown of `server` as the service installs it; `exited` is the code it exits with. */
function shutdownOf(
  server: Server,
  logger: Logger,
  drainMs?: number,
): { shutdown: Shutdown; exited: Promise<number> } {
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => {
    exit = resolve;
  });
  const shutdown = installShutdown({
    server,
    parts: [],
    flush: { name: 'flush', close: async () => undefined },
    logger,
    drainMs,
    exit,
  });
  return { shutdown, exited };
}

/** A connection to `port`, and all it reads until the server closes it (a NUL is never sent). */
async function connected(port: number): Promise<{ socket: Socket; all: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return { socket, all: readUntil(socket, '\u0000') };
}

/** Resolves once the drain's end has been logged: the cut is planned from then on. */
const cutPlanned = (lines: string[]) =>
  waitFor('the cut', async () => lines.some((l) => l.includes('at the end of the drain')), 5000, 5);

/** The warnings' `cut` and `answered503` counts. */
const cutCounts = (lines: string[]) =>
  lines
    .map((l) => JSON.parse(l))
    .filter((l) => l.level === 40)
    .map((l) => [l.cut, l.answered503]);

describe('graceful shutdown (in process)', () => {
  let server: Server;

  beforeEach(async () => {
    server = createServer((req, res) => res.end(`answer to ${req.url}`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterEach(() => {
    server.closeAllConnections();
    server.close();
  });

  it('answers a request already sent on a kept-alive connection when the stop comes', async () => {
    const { port } = server.address() as { port: number };
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const first = readUntil(socket, 'answer to /first');
    socket.write(GET('/first'));
    await first;
    // The connection is idle to Node now. The next request is in the kernel's buffer, unread,
    // when the signal comes: a keep-alive client (a proxy's pool) cannot tell this from a
    // request that the server took, and a reset loses it.
    socket.removeAllListeners('data');
    const second = readUntil(socket, 'answer to /second');
    socket.write(GET('/second'));
    const { shutdown, exited } = shutdownOf(server, createLogger({ level: 'silent' }));
    void shutdown.stop('SIGTERM');
    const answer = await second;
    expect(answer).to.contain('answer to /second');
    expect(answer.toLowerCase()).to.contain('connection: close');
    expect(await exited).to.equal(0);
    socket.destroy();
  });
  // What the drain leaves running: no answer begun, a 503 that says why; an answer begun, which
  // nothing can finish, its connection closed. The warning counts both.
  it("answers 503 where no answer had begun at the drain's end, and closes one begun", async () => {
    const stalled = await listening((req, res) => {
      if (req.url === '/begun') res.writeHead(200, { 'content-length': '100' }).write('part');
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const ask = async (path: string) => {
      const { socket, all } = await connected(stalled.port);
      socket.write(GET(path));
      return all;
    };
    const waiting = ask('/waiting');
    const begun = ask('/begun');
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    const [unanswered, partial] = await Promise.all([waiting, begun]);
    expect(unanswered).to.match(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(unanswered.toLowerCase()).to.contain('connection: close');
    expect(unanswered).to.contain('"error":"unavailable"');
    expect(partial).to.match(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\npart$/);
    expect(await exited).to.equal(0);
    expect(cutCounts(lines)).to.deep.equal([[2, 1]]);
  });

  // A 503 without Retry-After leaves a client to guess when to send again: at once (to a server
  // still stopping) or never. The service is gone within its grace and ready again under 2 s
  // after it starts, so what is left of the grace plus 2 s, in whole seconds.
  it("says in Retry-After when to send again a request cut at the drain's end", async () => {
    const stalled = await listening(() => {});
    const { shutdown, exited } = shutdownOf(stalled.server, createLogger({ level: 'silent' }), 200);
    const { socket, all } = await connected(stalled.port);
    socket.write(GET('/waiting'));
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    const got = await all;
    expect(got).to.match(/^HTTP\/1\.1 503 /);
    // 9 s of grace less the 0.2 s drain, rounded up, plus 2 s to start again.
    expect(got.toLowerCase()).to.match(/\r\nretry-after: 11\r\n/);
    expect(await exited).to.equal(0);
  });

  // Connection: close went on the response whose turn it was: a request pipelined behind it, on
  // the same connection, lost its connection at that answer and got none, though the drain had
  // time for it.
  it('answers every request pipelined on a connection the drain closes, closing after the last', async () => {
    const slow = await listening((req, res) => {
      setTimeout(() => res.end(`answer to ${req.url}`), 100);
    });
    const { shutdown, exited } = shutdownOf(slow.server, createLogger({ level: 'silent' }));
    const { socket, all } = await connected(slow.port);
    socket.write(GET('/first') + GET('/second'));
    await new Promise((r) => setTimeout(r, 30));
    void shutdown.stop('SIGTERM');
    const got = await all;
    expect(got).to.contain('answer to /first');
    expect(got).to.contain('answer to /second');
    const heads = got.toLowerCase().split('http/1.1 200').slice(1);
    expect(heads.map((h) => h.includes('connection: close'))).to.deep.equal([false, true]);
    expect(await exited).to.equal(0);
  });

  // A request pipelined on a busy connection, still in its socket's buffer when the stop came,
  // is read at the next poll: the Connection: close already on the one being answered closed
  // the connection at that answer, and the late one got none, though the drain had time for it.
  it('answers a request pipelined on a busy connection after the stop came, closing after it', async () => {
    const slow = await listening((req, res) => {
      setTimeout(() => res.end(`answer to ${req.url}`), 100);
    });
    const { shutdown, exited } = shutdownOf(slow.server, createLogger({ level: 'silent' }));
    const { socket, all } = await connected(slow.port);
    socket.write(GET('/first'));
    await new Promise((r) => setTimeout(r, 30));
    void shutdown.stop('SIGTERM');
    socket.write(GET('/second'));
    const got = await all;
    expect(got).to.contain('answer to /first');
    expect(got).to.contain('answer to /second');
    const heads = got.toLowerCase().split('http/1.1 200').slice(1);
    expect(heads.map((h) => h.includes('connection: close'))).to.deep.equal([false, true]);
    expect(await exited).to.equal(0);
  });

  // At the drain's end the 503 (Connection: close) of the response whose turn it is leaves the
  // request pipelined behind it unanswered: the shutdown cut it too, though it was neither
  // counted in the warning nor marked, so the app took its connection's close for its client's
  // leaving (a 499).
  it("counts and marks a request pipelined behind one cut at the drain's end as cut", async () => {
    const seen: ServerResponse[] = [];
    const stalled = await listening((_req, res) => {
      seen.push(res);
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const { socket, all } = await connected(stalled.port);
    socket.write(GET('/first') + GET('/second'));
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    const got = await all;
    expect(got).to.match(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(await exited).to.equal(0);
    expect(seen.map((res) => wasCutByShutdown(res))).to.deep.equal([true, true]);
    expect(cutCounts(lines)).to.deep.equal([[2, 1]]);
  });

  // The answer to a request pipelined behind a slow one, finished (its line said 200) but queued
  // behind the one whose turn it is, was lost with the connection the 503's close ended.
  it("delivers an answer finished but queued behind one cut at the drain's end", async () => {
    const seen: ServerResponse[] = [];
    const stalled = await listening((req, res) => {
      seen.push(res);
      if (req.url === '/fast') res.end('answer to /fast');
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const { socket, all } = await connected(stalled.port);
    socket.write(GET('/slow') + GET('/fast'));
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    const got = await all;
    expect(got).to.match(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(got).to.match(/\r\n\r\nanswer to \/fast$/);
    // The 503 keeps the connection for the answer behind it.
    expect(got.split('HTTP/1.1 200')[0].toLowerCase()).not.to.contain('connection: close');
    expect(await exited).to.equal(0);
    expect(seen.map((res) => wasCutByShutdown(res))).to.deep.equal([true, false]);
    expect(cutCounts(lines)).to.deep.equal([[1, 1]]);
  });

  // Behind an answer begun, which nothing can finish, a finished one goes with the connection:
  // its line said 200, so the warning says how many answers were lost so.
  it('counts an answer finished but queued behind one begun as lost', async () => {
    const stalled = await listening((req, res) => {
      if (req.url === '/begun') res.writeHead(200, { 'content-length': '100' }).write('part');
      else res.end('answer to /fast');
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const { socket, all } = await connected(stalled.port);
    socket.write(GET('/begun') + GET('/fast'));
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    expect(await all).not.to.contain('answer to /fast');
    expect(await exited).to.equal(0);
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 40);
    expect([warning.cut, warning.answered503, warning.answersLost]).to.deep.equal([1, 0, 1]);
  });

  // A request whose head was still arriving when the drain ended reached the app after the cut
  // was planned: neither answered nor marked, it was lost with the connection a second later,
  // and the app took that for its client's leaving (a 499).
  it('answers 503 and marks a request that arrives after the cut was planned', async () => {
    const seen: ServerResponse[] = [];
    const stalled = await listening((_req, res) => {
      seen.push(res);
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const { socket, all } = await connected(stalled.port);
    const late = GET('/late');
    socket.write(late.slice(0, -2));
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    await cutPlanned(lines);
    socket.write('\r\n');
    const got = await all;
    expect(got).to.match(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(got.toLowerCase()).to.contain('connection: close');
    expect(await exited).to.equal(0);
    expect(seen.map((res) => wasCutByShutdown(res))).to.deep.equal([true]);
  });

  // The app logs a cut request after its connection closes. The shutdown waited for the lines
  // of the requests its plan cut, not for one cut as it arrived later: it exited first, and
  // that request's line (its 503) was never written.
  it('exits only after the line of a request cut as it arrived after the plan', async () => {
    const { logger, lines } = captureLogger();
    const stalled = await listening((req, res) => {
      appBegins(res);
      res.once('close', () =>
        setTimeout(() => {
          logger.info({ path: req.url, status: res.statusCode }, 'request');
          appEnds(res);
        }, 50),
      );
    });
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const { socket, all } = await connected(stalled.port);
    socket.write(GET('/late').slice(0, -2));
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    await cutPlanned(lines);
    socket.write('\r\n');
    expect(await all).to.match(/^HTTP\/1\.1 503 /);
    expect(await exited).to.equal(0);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; path?: string });
    expect(logged.filter((l) => l.msg === 'request').map((l) => l.path)).to.deep.equal(['/late']);
    expect(logged.at(-1)?.msg, 'the last line').to.equal('stopped');
  });

  it('delivers, unmarked, what the app answers at once of a request that arrives after it', async () => {
    const seen: ServerResponse[] = [];
    const quick = await listening((req, res) => {
      seen.push(res);
      if (req.url === '/late') res.end('answer to /late');
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(quick.server, logger, 200);
    const { socket: busy } = await connected(quick.port);
    busy.write(GET('/slow'));
    const { socket, all } = await connected(quick.port);
    socket.write(GET('/late').slice(0, -2));
    await new Promise((r) => setTimeout(r, 50));
    void shutdown.stop('SIGTERM');
    await cutPlanned(lines);
    socket.write('\r\n');
    const got = await all;
    expect(got).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(got.toLowerCase()).to.contain('connection: close');
    expect(await exited).to.equal(0);
    expect(seen.map((res) => wasCutByShutdown(res))).to.deep.equal([true, false]);
  });

  // One stalled behind the finished answer is answered 503 when its turn comes, and closes.
  it('answers 503 one stalled behind an answer finished behind one cut, closing after it', async () => {
    let arrived: () => void = () => {};
    const allArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const stalled = await listening((req, res) => {
      if (req.url === '/fast') res.end('answer to /fast');
      if (req.url === '/stalled') arrived();
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const { socket, all } = await connected(stalled.port);
    socket.write(GET('/slow') + GET('/fast') + GET('/stalled'));
    // All three in the app before the stop, as this case is: a 50 ms sleep let a stalled
    // process stop first, and the three arrived during the drain (another case).
    await allArrived;
    void shutdown.stop('SIGTERM');
    const got = await all;
    const statuses = [...got.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
    expect(statuses).to.deep.equal(['503', '200', '503']);
    const heads = got.toLowerCase().split('http/1.1 ').slice(1);
    expect(heads.map((h) => h.includes('connection: close'))).to.deep.equal([false, false, true]);
    expect(await exited).to.equal(0);
    expect(cutCounts(lines)).to.deep.equal([[2, 2]]);
  });

  // The connection's record of pipelined responses kept one already sent (Node takes its socket
  // back once it is), so a request answered later on that connection was not the last in line:
  // its 503 kept the connection open for an answer sent long before, and said no close.
  it('closes after the 503 of a request sent after answers pipelined before it', async () => {
    let arrived: () => void = () => {};
    const stalledArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const stalled = await listening((req, res) => {
      if (req.url === '/stalled') arrived();
      else res.end(`answer to ${req.url}`);
    });
    const { logger, lines } = captureLogger();
    const { shutdown, exited } = shutdownOf(stalled.server, logger, 200);
    const socket = connect(stalled.port, '127.0.0.1');
    await once(socket, 'connect');
    const answered = readUntil(socket, 'answer to /b');
    socket.write(GET('/a') + GET('/b'));
    await answered;
    socket.removeAllListeners('data');
    const all = readUntil(socket, '\u0000');
    socket.write(GET('/stalled'));
    await stalledArrived;
    void shutdown.stop('SIGTERM');
    const got = await all;
    expect(got).to.match(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(got.toLowerCase()).to.contain('connection: close');
    expect(await exited).to.equal(0);
    expect(cutCounts(lines)).to.deep.equal([[1, 1]]);
  });
});
