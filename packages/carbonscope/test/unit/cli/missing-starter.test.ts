import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { missingStarter } from '../../../src/cli/missing-starter.js';

describe('cli: missing starter', () => {
  let dir: string;
  const script = (name: string, content: string | Buffer): string => {
    const file = join(dir, name);
    writeFileSync(file, content, { mode: 0o755 });
    return file;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carbonscope-starter-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names the interpreter as the kernel reads it, found by path or in PATH', () => {
    script('crlf.sh', '#!/bin/sh\r\necho hi\r\n');
    expect(missingStarter(join(dir, 'crlf.sh'), undefined)).to.equal(
      'its interpreter /bin/sh\r (its #! line) was not found (the script has Windows line ends, CRLF)',
    );
    script('tabbed', '#! \t/no/such\t-e\n');
    expect(missingStarter('tabbed', `/no/dir::${dir}`)).to.equal(
      'its interpreter /no/such (its #! line) was not found',
    );
    script('with space', '#!/no/such\n');
    expect(missingStarter(join(dir, 'with space'), undefined)).to.match(/ \/no\/such /);
  });

  // `#!\u00a0/bin/sh` was told `/bin/sh` was not found: trimStart takes the no-break space
  // the kernel keeps. `/opt/café` was shown `/opt/cafÃ©`, each UTF-8 byte a character.
  it('skips only spaces and tabs, and shows a name as UTF-8', () => {
    script('nbsp', Buffer.from('#!\xa0/bin/sh\n', 'latin1'));
    expect(missingStarter(join(dir, 'nbsp'), undefined)).to.equal(
      'its interpreter \ufffd/bin/sh (its #! line) was not found',
    );
    script('utf8', '#!/opt/café/sh\n');
    expect(missingStarter(join(dir, 'utf8'), undefined)).to.equal(
      'its interpreter /opt/café/sh (its #! line) was not found',
    );
  });

  // The kernel's ENOENT was the nested script's /bin/sh\r: the interpreter named is there.
  it('does not call an interpreter missing that is there', () => {
    const inner = script('crlf.sh', '#!/bin/sh\r\n');
    script('outer', `#!${inner}\n`);
    expect(missingStarter(join(dir, 'outer'), undefined)).to.equal(
      `its interpreter ${inner} (its #! line) exists, but what starts it (its own #! interpreter or program loader) was not found`,
    );
  });

  it('reads at most 256 bytes of a first line without end, and never what is no file', () => {
    script('huge', `#!/no/${'x'.repeat(1_000_000)}`);
    expect(missingStarter(join(dir, 'huge'), undefined)).to.equal(
      `its interpreter /no/${'x'.repeat(250)} (its #! line) was not found`,
    );
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    chmodSync(join(dir, 'fifo'), 0o755);
    mkdirSync(join(dir, 'folder'));
    symlinkSync('loop2', join(dir, 'loop1'));
    symlinkSync('loop1', join(dir, 'loop2'));
    // A FIFO opened would wait for a writer for ever; none of these is opened.
    for (const command of ['fifo', 'folder', 'loop1', 'nothing']) {
      expect(missingStarter(join(dir, command), undefined), command).to.equal(undefined);
      expect(missingStarter(command, dir), command).to.equal(undefined);
    }
    expect(missingStarter('/dev/zero', undefined)).to.equal(undefined);
    expect(missingStarter('', dir)).to.equal(undefined);
  });

  // POSIX execvp and Node's spawn (libuv) read an empty PATH entry as the current folder: a
  // script there with a missing interpreter was told `command not found` under `PATH=:/usr/bin`.
  it('reads an empty PATH entry as the current folder, as spawn does', () => {
    script('here', '#!/no/such\n');
    script('runs', '#!/bin/sh\nexit 7\n');
    const before = process.cwd();
    process.chdir(dir);
    try {
      for (const path of ['', ':/no/dir', '/no/dir:', '/no/dir::/no/other']) {
        // Node's own lookup, which the diagnosis is to agree with: it finds and runs `runs` here.
        const run = spawnSync('runs', { env: { PATH: path } });
        expect(run.status, path).to.equal(7);
        expect(missingStarter('here', path), path).to.equal(
          'its interpreter /no/such (its #! line) was not found',
        );
      }
      expect(missingStarter('here', '/no/dir')).to.equal(undefined);
      // Without PATH, spawn looks in /usr/bin:/bin, not here.
      expect(spawnSync('runs', { env: {} }).error?.message).to.match(/ENOENT/);
      expect(missingStarter('here', undefined)).to.equal(undefined);
    } finally {
      process.chdir(before);
    }
  });

  it('says a program without #! lacks its loader', () => {
    script('program', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0xff, 0x00, 0x9b]));
    expect(missingStarter(join(dir, 'program'), undefined)).to.equal(
      'it exists, but its program loader (ELF interpreter) was not found',
    );
  });
});
