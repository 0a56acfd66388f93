import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { cliEnv } from '../helpers/cli-env.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const ENV = cliEnv();

/**
 * Runs `sh -c script`, under `carbonscope run` or not, with each file open for writing at its fd.
 */
function runWithFds(
  script: string,
  files: Record<number, string>,
  under: 'run' | 'alone' = 'run',
): Promise<number | null> {
  const top = Math.max(...Object.keys(files).map(Number));
  const stdio: ('ignore' | number)[] = ['ignore', 'ignore', 'ignore'];
  const opened: number[] = [];
  for (let fd = 3; fd <= top; fd++) {
    const path = files[fd];
    if (path === undefined) {
      stdio.push('ignore');
      continue;
    }
    const handle = openSync(path, 'w');
    opened.push(handle);
    stdio.push(handle);
  }
  const [file, args] =
    under === 'run'
      ? [process.execPath, [MAIN, 'run', '--', '/bin/sh', '-c', script]]
      : ['/bin/sh', ['-c', script]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: ENV, stdio });
    for (const handle of opened) closeSync(handle);
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

describe('carbonscope run: file descriptors past stderr', function () {
  this.timeout(60_000);
  const dir = tempDirUntilExit('carbonscope-fds-');

  // Node marks the fds it is given close-on-exec at its start, from 3 up to the first gap among
  // its own: `run -- cmd 3>file` gave the command a closed fd 3 (sh: "Bad file descriptor").
  it('gives the command the fds it was given, low ones (3, 9) as high ones (40)', async function () {
    if (process.platform !== 'linux') this.skip();
    const files = { 3: join(dir, 'fd3'), 9: join(dir, 'fd9'), 40: join(dir, 'fd40') };
    // dash takes one digit only after >&: fd 40 is written through /proc.
    const code = await runWithFds(
      'echo three >&3 && echo nine >&9 && echo forty > /proc/self/fd/40',
      files,
    );
    expect(code).to.equal(0);
    expect(readFileSync(files[3], 'utf8')).to.equal('three\n');
    expect(readFileSync(files[9], 'utf8')).to.equal('nine\n');
    expect(readFileSync(files[40], 'utf8')).to.equal('forty\n');
  });

  // Run by a parent with an IPC channel (fork(), pm2's fork mode), the command got the channel's
  // socket at fd 3: Node's own, which it took for one given (a socket passes), and held open.
  it('keeps the IPC channel of a parent that forked it to itself', async function () {
    if (process.platform !== 'linux') this.skip();
    const listing = join(dir, 'ipc');
    const handle = openSync(listing, 'w');
    const script = 'for f in /proc/$$/fd/*; do echo "$(basename "$f") $(readlink "$f")"; done >&4';
    const child = spawn(process.execPath, [MAIN, 'run', '--', '/bin/sh', '-c', script], {
      env: ENV,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc', handle],
    });
    closeSync(handle);
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
    const fds = readFileSync(listing, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    expect(fds.find(([fd]) => fd === '4')?.[1]).to.equal(listing);
    // The shell's own (its $(…)'s pipe) may take fd 3 now: no socket is there at all.
    expect(
      fds.filter(([, target]) => target?.startsWith('socket:')),
      'the IPC socket',
    ).to.deep.equal([]);
  });

  it("gives the command the same fds as without it, none of carbonscope's own", async function () {
    if (process.platform !== 'linux') this.skip();
    const listings = { run: join(dir, 'run'), alone: join(dir, 'alone') };
    // Names and targets: the numbers alone would pass a pipe of carbonscope's at the same fd.
    const script = 'for f in /proc/$$/fd/*; do echo "$(basename "$f") $(readlink "$f")"; done >&3';
    expect(await runWithFds(script, { 3: listings.run }, 'run')).to.equal(0);
    expect(await runWithFds(script, { 3: listings.alone }, 'alone')).to.equal(0);
    // Each fd with what it is: the listing's own file as such, a pipe without its inode.
    const fds = (path: string) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        // 0-2 differ as they should (run's stdout, stderr are its own): the rest must not.
        .filter((line) => Number(line.split(' ')[0]) > 2)
        .map((line) => line.replace(path, 'listing').replace(/:\[\d+\]$/, ''));
    expect(fds(listings.run)).to.deep.equal(fds(listings.alone));
    expect(fds(listings.run)).to.include('3 listing');
  });
});
