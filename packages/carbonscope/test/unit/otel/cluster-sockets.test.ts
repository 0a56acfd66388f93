import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'chai';
import type { Logger } from '../../../src/log.js';
import {
  type Exposition,
  folderTokenOf,
  folderTrouble,
  pidNamespace,
  primaryFolder,
  readWorker,
  removeFolder,
  removeStaleFolders,
  serveThePrimary,
  socketFolder,
  socketPath,
  socketPids,
} from '../../../src/otel/cluster-sockets.js';
import { readBootId } from '../../../src/proc/index.js';

/** A primary pid no process has: the folder is this test's alone. */
const PRIMARY = 900_000_000 + process.pid;
const FOLDER = socketFolder(PRIMARY);

function warningLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const none = () => undefined;
  const warn = (first: unknown, second?: string) => {
    warnings.push(typeof first === 'string' ? first : String(second));
  };
  return { logger: { debug: none, info: none, warn, error: none }, warnings };
}

const listening = (path: string) =>
  new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 5_000;
    const look = () => {
      if (existsSync(path)) resolve();
      else if (Date.now() > deadline) reject(new Error(`${path} never made`));
      else setTimeout(look, 10);
    };
    look();
  });

describe("a cluster worker's socket, from which its primary reads its exposition", function () {
  this.timeout(10_000);
  if (process.platform === 'win32') return;
  const path = socketPath(FOLDER, process.pid);
  let stop: (() => void) | undefined;

  afterEach(() => {
    stop?.();
    stop = undefined;
    rmSync(FOLDER, { recursive: true, force: true });
  });

  const serve = (
    collect: () => Promise<Exposition>,
    logger = warningLogger().logger,
    folder = FOLDER,
    ...shared: [number?]
  ) => {
    stop = serveThePrimary(folder, collect, logger, ...shared);
  };
  const halt = () => {
    stop?.();
    stop = undefined;
  };

  it('serves each connection the whole exposition and its instance, however long', async () => {
    const text = `${'a_total{x="1"} 1\n'.repeat(60_000)}`;
    serve(async () => ({ text, instance: 'w1' }));
    await listening(path);
    expect(statSync(FOLDER).mode & 0o777).to.equal(0o700);
    const reads = await Promise.all(
      Array.from({ length: 12 }, () => readWorker(FOLDER, process.pid, 5_000)),
    );
    for (const read of reads)
      expect(read).to.deep.equal({ text, instance: 'w1', pid: process.pid });
    // A resource without service.instance.id.
    stop?.();
    serve(async () => ({ text: 'b 2\n', instance: undefined }));
    await listening(path);
    expect(await readWorker(FOLDER, process.pid, 5_000)).to.deep.equal({
      text: 'b 2\n',
      instance: undefined,
      pid: process.pid,
    });
  });

  it('a worker without a socket, or whose collection failed, is nothing at once', async () => {
    mkdirSync(FOLDER, { mode: 0o700 });
    expect(await readWorker(FOLDER, process.pid, 60_000)).to.equal(undefined);
    serve(() => Promise.reject(new Error('not started')));
    await listening(path);
    expect(await readWorker(FOLDER, process.pid, 60_000)).to.equal(undefined);
  });

  it('a worker that does not answer in time is nothing, and its connection is closed', async () => {
    mkdirSync(FOLDER, { mode: 0o700 });
    let closed = 0;
    const silent: Server = createServer((socket) => socket.on('close', () => closed++));
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    try {
      expect(await readWorker(FOLDER, process.pid, 100)).to.equal(undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closed).to.equal(1);
    } finally {
      silent.close();
    }
  });

  it('an answer over the size limit is nothing, said once, and read no further', async () => {
    // Unbounded, one over V8's longest string (~512 MiB) threw in the read's end listener and
    // ended the primary, the whole cluster with it.
    mkdirSync(FOLDER, { mode: 0o700 });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let written = 0;
    const flood: Server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('{"instance":"w9"}\n');
      const more = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', more);
        }
        socket.end();
      };
      more();
    });
    await new Promise<void>((resolve) => flood.listen(path, resolve));
    try {
      let told = 0;
      const read = await readWorker(FOLDER, process.pid, 5_000, {
        maxBytes: 1024 * 1024,
        tooLarge: () => told++,
      });
      expect(read).to.equal(undefined);
      expect(told).to.equal(1);
      expect(written).to.be.below(16 * 1024 * 1024);
    } finally {
      flood.close();
    }
  });

  it('resumed after a stop, one collection for all the scrapes that gave up on it', async () => {
    // A stopped worker's connections wait in its listen backlog; the primary gives up on each
    // (its timeout), and at SIGCONT the worker accepted every one and ran a collection for each.
    let collections = 0;
    serve(async () => {
      collections++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { text: 'c 3\n', instance: 'w2' };
    });
    await listening(path);
    const reads = Array.from({ length: 6 }, () => readWorker(FOLDER, process.pid, 20));
    // Stopped: nothing of this process runs, its connections queue.
    const until = Date.now() + 100;
    while (Date.now() < until);
    expect(await Promise.all(reads)).to.deep.equal(Array(6).fill(undefined));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(collections).to.equal(1);
    // Each collection after is a new one.
    expect((await readWorker(FOLDER, process.pid, 5_000))?.text).to.equal('c 3\n');
    expect(collections).to.equal(2);
  });

  it('a collection that never ends: its waiters let go, and the next scrape collects anew', async () => {
    // Shared, one that never settled held every later connection for good: the worker's figures
    // were gone from every scrape after, where unshared only that scrape's were.
    let collections = 0;
    const hangsOnce = () =>
      ++collections === 1
        ? new Promise<Exposition>(() => undefined)
        : Promise.resolve({ text: 'i 9\n', instance: 'w8' });
    serve(hangsOnce, undefined, FOLDER, 200);
    await listening(path);
    // Read timeouts past mocha's: only the worker's answer time (200 ms) lets them go.
    const waiting = [
      readWorker(FOLDER, process.pid, 600_000),
      readWorker(FOLDER, process.pid, 600_000),
    ];
    expect(await Promise.all(waiting)).to.deep.equal([undefined, undefined]);
    expect((await readWorker(FOLDER, process.pid, 3_000))?.text).to.equal('i 9\n');
    expect(collections).to.equal(2);
  });

  it("replaces a dead worker's stale socket of the same pid", async () => {
    mkdirSync(FOLDER, { mode: 0o700 });
    writeFileSync(path, 'stale');
    serve(async () => ({ text: 'c 3\n', instance: 'w2' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lstatSync(path).isSocket()).to.equal(true);
    expect((await readWorker(FOLDER, process.pid, 5_000))?.text).to.equal('c 3\n');
  });

  it('stopped: its socket is gone, the folder too once empty, and no exit listener is left', async () => {
    const exitListeners = process.listenerCount('exit');
    serve(async () => ({ text: 'd 4\n', instance: 'w3' }));
    await listening(path);
    stop?.();
    stop = undefined;
    expect(existsSync(path)).to.equal(false);
    expect(existsSync(FOLDER)).to.equal(false);
    expect(process.listenerCount('exit')).to.equal(exitListeners);
  });

  it('a folder others may enter is not used by the worker nor read by the primary', async () => {
    mkdirSync(FOLDER, { mode: 0o700 });
    chmodSync(FOLDER, 0o777);
    const { logger, warnings } = warningLogger();
    serve(async () => ({ text: 'e 5\n', instance: 'w4' }), logger);
    expect(existsSync(path)).to.equal(false);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('cannot give its primary its figures').and.include('mode 777');
    expect(primaryFolder(FOLDER)?.trouble).to.include('mode 777');
  });

  it('a worker removes nothing through a folder that is a link, at its stop or at its exit', async () => {
    // Another user plants the folder's name as a link to a folder of this user's: the worker
    // refused it, yet its stop removed `<pid>.sock` names in the link's target all the same.
    const target = `${FOLDER}-target`;
    mkdirSync(target, { mode: 0o700 });
    const planted = () => {
      writeFileSync(join(target, '999999999.sock'), 'not the worker’s');
      writeFileSync(join(target, `${process.pid}.sock`), 'not the worker’s either');
      symlinkSync(target, FOLDER);
    };
    try {
      planted();
      const { logger, warnings } = warningLogger();
      serve(async () => ({ text: 'f 6\n', instance: 'w5' }), logger);
      expect(warnings[0]).to.include('it is not a folder');
      halt();
      expect(readdirSync(target).sort()).to.deep.equal([`${process.pid}.sock`, '999999999.sock']);
      // Served from a folder of its own, which the primary removed at its exit and another
      // user then planted as a link.
      rmSync(FOLDER);
      rmSync(target, { recursive: true });
      mkdirSync(target, { mode: 0o700 });
      serve(async () => ({ text: 'f 6\n', instance: 'w5' }));
      await listening(path);
      rmSync(FOLDER, { recursive: true });
      planted();
      halt();
      expect(readdirSync(target).sort()).to.deep.equal([`${process.pid}.sock`, '999999999.sock']);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('a TMPDIR too long for a socket path: said, and no socket made or read anywhere', async () => {
    // Node 20 cut a path over sun_path's 107 bytes short: the socket went to
    // <TMPDIR>/carbonscope-cluste, outside the checked folder, in the same name for every
    // cluster, and the primary read whatever listened there.
    const max = process.platform === 'linux' ? 107 : 103;
    const before = process.env.TMPDIR;
    const long = join(tmpdir(), `carbonscope-long-${process.pid}-${'x'.repeat(60)}`);
    mkdirSync(long, { mode: 0o700 });
    try {
      process.env.TMPDIR = long;
      const folder = socketFolder(PRIMARY);
      const { logger, warnings } = warningLogger();
      serve(async () => ({ text: 'g 7\n', instance: 'w6' }), logger, folder);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include(`TMPDIR (now ${long})`).and.include(`${max}`);
      expect(readdirSync(long)).to.deep.equal([]);
      // Where something listens at the cut path all the same, the primary does not read it.
      const cut = socketPath(folder, process.pid).slice(0, max);
      const other: Server = createServer((socket) => socket.end('{"instance":"x"}\nh 8\n'));
      await new Promise<void>((resolve) => other.listen(cut, resolve));
      try {
        expect(await readWorker(folder, process.pid, 1_000)).to.equal(undefined);
      } finally {
        other.close();
      }
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      rmSync(long, { recursive: true, force: true });
    }
  });

  it("another user's folder, or a link, is not to be trusted", () => {
    mkdirSync(FOLDER, { mode: 0o700 });
    const uid = process.getuid?.() ?? 0;
    expect(folderTrouble(lstatSync(FOLDER), uid)).to.equal(undefined);
    expect(folderTrouble(lstatSync(FOLDER), uid + 1)).to.include(`belongs to user ${uid}`);
    const link = `${FOLDER}-link`;
    symlinkSync(FOLDER, link);
    try {
      expect(folderTrouble(lstatSync(link), uid)).to.equal('it is not a folder');
    } finally {
      rmSync(link);
    }
  });

  it('the primary reads nothing where no worker made the folder', () => {
    expect(primaryFolder(FOLDER)).to.equal(undefined);
  });
});

describe("the removal of a primary's socket folder (at its exit, or a dead one's at a fork)", () => {
  if (process.platform === 'win32') return;
  let tmp = '';
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'carbonscope-removal-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  /** A folder as a primary's workers leave it: 0700, sockets named by their pids. */
  const made = (name: string, extra?: (folder: string) => void) => {
    const folder = join(tmp, name);
    mkdirSync(folder, { mode: 0o700 });
    writeFileSync(join(folder, '12.sock'), '');
    writeFileSync(join(folder, '13.sock'), '');
    extra?.(folder);
    return folder;
  };
  // What no worker makes: a recursive removal took it, and through a link swapped in as it ran
  // (a TMPDIR without the sticky bit), what the link's target holds.
  const foreign = (folder: string) => {
    mkdirSync(join(folder, 'keep'));
    writeFileSync(join(folder, 'keep', 'file'), 'not carbonscope’s');
    writeFileSync(join(folder, 'notes.txt'), 'nor this');
  };

  it("a dead primary's folder: its sockets and the folder go, anything else stays", async () => {
    const ns = pidNamespace();
    if (ns === undefined) {
      if (process.platform === 'linux') throw new Error('this test needs /proc/self/ns/pid');
      return;
    }
    // 999999999 is over any Linux pid (PID_MAX_LIMIT, 2^22): its primary runs no more.
    const stale = made(basename(socketFolder(999_999_999, tmp)));
    const odd = made(basename(socketFolder(999_999_998, tmp)), foreign);
    await removeStaleFolders(process.pid, tmp);
    expect(existsSync(stale)).to.equal(false);
    expect(readdirSync(odd).sort()).to.deep.equal(['keep', 'notes.txt']);
    expect(readdirSync(join(odd, 'keep'))).to.deep.equal(['file']);
  });

  // A TMPDIR shared by hosts (NFS): every host's first pid namespace has the same inode, so a
  // primary of one pid on two hosts shared a folder, and one host's sweep took the other's live
  // workers' sockets, its primary's pid not running here.
  it("another host's folder of a dead pid and the same namespace stays; so do old names", async () => {
    const ns = pidNamespace();
    if (ns === undefined) {
      if (process.platform === 'linux') throw new Error('this test needs /proc/self/ns/pid');
      return;
    }
    const own = basename(socketFolder(999_999_999, tmp));
    expect(own).to.equal(`carbonscope-cluster-999999999-${folderTokenOf(ns, readBootId() ?? '')}`);
    const otherHost = made(
      `carbonscope-cluster-999999999-${folderTokenOf(ns, '00000000-0000-0000-0000-000000000000')}`,
    );
    // As a version before the host was in the name named it: this host's, or another's.
    const unnamedHost = made(`carbonscope-cluster-999999999-${ns}`);
    await removeStaleFolders(process.pid, tmp);
    expect(readdirSync(otherHost).sort()).to.deep.equal(['12.sock', '13.sock']);
    expect(readdirSync(unnamedHost).sort()).to.deep.equal(['12.sock', '13.sock']);
  });

  // The namespace's inode and the boot id's first 8 hex digits, both in the name, made it 9 bytes
  // longer: a TMPDIR of 47 to 55 bytes, which served before, left every worker without a socket
  // (CI's fresh TMPDIR and a test's folder under it: 114 bytes).
  it('the folder names its host in as many bytes as the namespace alone took', () => {
    const name = basename(socketFolder(9_999_999, tmp));
    expect(name).to.match(/^carbonscope-cluster-9999999-[0-9a-f]{10}$/);
    expect(folderTokenOf('4026531836', 'a')).to.not.equal(folderTokenOf('4026531836', 'b'));
    expect(folderTokenOf('4026531836', 'a')).to.not.equal(folderTokenOf('4026531837', 'a'));
  });

  // A relative TMPDIR named a relative folder, which a worker with a cwd of its own
  // (cluster.setupPrimary({ cwd })) looked for from there, and the primary from wherever its
  // cwd was at each scrape.
  it('a relative TMPDIR names a folder from where the primary was as it named it', () => {
    const folder = socketFolder(999_999_999, 'rel-tmp');
    expect(folder.startsWith(join(process.cwd(), 'rel-tmp', 'carbonscope-cluster-'))).to.equal(
      true,
    );
  });

  it("the primary's own at its exit: its sockets and the folder go, anything else stays", () => {
    const own = made('carbonscope-cluster-1-own');
    removeFolder(own);
    expect(existsSync(own)).to.equal(false);
    const odd = made('carbonscope-cluster-2-own', foreign);
    removeFolder(odd);
    expect(readdirSync(odd).sort()).to.deep.equal(['keep', 'notes.txt']);
  });

  // A forked child that a signal ends (child.kill()'s SIGTERM: workerpool's terminate, a job
  // queue's sandbox) has no exit to remove its socket at, and no cluster event tells the parent
  // of it: 10 children killed left 10 sockets, read past at every scrape for the parent's life.
  it("the live processes' pids, each scrape; a dead one's socket goes, anything else stays", () => {
    const folder = made('carbonscope-cluster-3-own', foreign);
    writeFileSync(join(folder, `${process.pid}.sock`), '');
    // 999999999 is over any Linux pid (PID_MAX_LIMIT, 2^22): it runs no more.
    writeFileSync(join(folder, '999999999.sock'), '');
    expect(socketPids(folder)).to.include(process.pid).and.not.include(999_999_999);
    expect(readdirSync(folder)).to.include(`${process.pid}.sock`).and.include('notes.txt');
    expect(readdirSync(folder)).to.not.include('999999999.sock');
    expect(socketPids(join(tmp, 'missing'))).to.deep.equal([]);
  });

  it('a folder it cannot read, or gone as it sweeps: no error, no word', async () => {
    await removeStaleFolders(process.pid, join(tmp, 'missing'));
    writeFileSync(join(tmp, 'a-file'), '');
    await removeStaleFolders(process.pid, join(tmp, 'a-file'));
  });
});
