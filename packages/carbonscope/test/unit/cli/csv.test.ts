import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs, {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  appendEmissionsRow,
  appendRowAfterReading,
  CODECARBON_COLUMNS,
  CSV_HEADER,
  CsvOutputError,
  checkAppendable,
  csvField,
  formatRow,
  parseCsv,
  parseEmissionsCsv,
} from '../../../src/cli/csv.js';
import { libraryRoot } from '../../../src/paths.js';

/** The CodeCarbon 3.x header, as written in issue 10 (the contract with CodeCarbon tooling). */
const EXPECTED_HEADER =
  'timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue';

/**
 * A run's row `p` appended to `name` in `dir` (`via` its path; `-o /dev/stdout`, its stdout
 * appended to the file; or a symlink to it) while another run's 5,000-byte row is half written,
 * its first 4 KiB page, and that run, writing to `name`, holds the claim every append takes; the
 * rest comes 300 ms later, when an append made unclaimed is in already, inside it. The file must
 * then hold the header and the two rows whole, nothing between, and the claim be gone.
 */
async function appendBesideHalfRow(
  dir: string,
  name: string,
  via: 'path' | 'stdout' | 'symlink',
): Promise<void> {
  const file = join(dir, name);
  const claim = join(dir, `.${name}.carbonscope-header`);
  const other = `${formatRow({ project_name: 'other', cpu_model: 'x'.repeat(5000) })}\n`;
  writeFileSync(file, `${CSV_HEADER}\n${other.slice(0, 4096)}`);
  writeFileSync(claim, '');
  const csv = new URL('../../../src/cli/csv.js', import.meta.url).href;
  const script = `import(${JSON.stringify(csv)}).then((m) => {
    process.stderr.write('ready');
    m.appendEmissionsRow(process.argv[1], { project_name: 'p' });
  })`;
  const out = via === 'stdout' ? fs.openSync(file, 'a') : 'ignore';
  const link = join(dir, `link-${name}`);
  if (via === 'symlink') fs.symlinkSync(name, link);
  const target = { path: file, stdout: '/dev/stdout', symlink: link }[via];
  const child = spawn(process.execPath, ['-e', script, target], {
    stdio: ['ignore', out, 'pipe'],
  });
  if (typeof out === 'number') fs.closeSync(out);
  const exit = once(child, 'exit');
  if (child.stderr === null) throw new Error('no pipe for stderr');
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  await once(child.stderr, 'data');
  // Appended unclaimed, the row is in by then; claimed, the run waits for the claim (2 s).
  await Promise.race([exit, new Promise((done) => setTimeout(done, 300))]);
  fs.appendFileSync(file, other.slice(4096));
  rmSync(claim);
  expect((await exit)[0], stderr).to.equal(0);
  const text = readFileSync(file, 'utf8');
  const { records } = parseEmissionsCsv(text);
  expect(records.map((r) => r.project_name)).to.deep.equal(['other', 'p']);
  const whole = `${CSV_HEADER}\n${other}${formatRow({ project_name: 'p' })}\n`;
  expect(text === whole, 'the header and two whole rows, nothing between').to.equal(true);
  expect(existsSync(claim), 'the claim, removed once written').to.equal(false);
}

describe('emissions.csv', () => {
  let dir = '';

  // Made as the suite runs: one a `-g` or a dry run skips would be left behind.
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'carbonscope-csv-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has CodeCarbon 3.x columns in their order', () => {
    expect(CSV_HEADER).to.equal(EXPECTED_HEADER);
    expect(CODECARBON_COLUMNS).to.have.length(38);
  });

  it('quotes fields per RFC 4180 and leaves unknown values empty', () => {
    expect(csvField('plain')).to.equal('plain');
    expect(csvField('a,b')).to.equal('"a,b"');
    expect(csvField('say "hi"')).to.equal('"say ""hi"""');
    expect(csvField(undefined)).to.equal('');
    expect(csvField(Number.NaN)).to.equal('');
    expect(csvField(0)).to.equal('0');
    const line = formatRow({ project_name: 'x', duration: 1.5 });
    expect(line.split(',')).to.have.length(38);
    expect(line.split(',')[1]).to.equal('x');
    expect(line.split(',')[4]).to.equal('1.5');
  });

  it("writes each column's numbers as CodeCarbon 3.3.2's own file does", () => {
    // Written by the real CodeCarbon (tools/codecarbon/fixtures.py emissions-formats.csv): floats
    // as Python's repr (`7.530482832405209e-05`, `0.0`, `1.0`), counts as integers.
    const text = readFileSync(
      join(libraryRoot, 'test', 'fixtures', 'codecarbon', 'emissions-formats.csv'),
      'utf8',
    );
    const theirs = parseEmissionsCsv(text).records[0];
    // gpu_utilization_percent is left out: its `0` there is no float but the int CodeCarbon
    // writes for a history with no GPU sample in it (`... if history else 0`).
    const numeric = [
      'duration',
      'emissions',
      'emissions_rate',
      'cpu_power',
      'gpu_power',
      'ram_power',
      'cpu_energy',
      'gpu_energy',
      'ram_energy',
      'energy_consumed',
      'water_consumed',
      'cpu_count',
      'gpu_count',
      'ram_total_size',
      'cpu_utilization_percent',
      'ram_utilization_percent',
      'ram_used_gb',
      'pue',
      'wue',
    ] as const;
    const row = Object.fromEntries(numeric.map((column) => [column, Number(theirs[column])]));
    const ours = parseEmissionsCsv(`${CSV_HEADER}\n${formatRow(row)}\n`).records[0];
    for (const column of numeric) expect(ours[column], column).to.equal(theirs[column]);
    expect(theirs.emissions).to.match(/e-05$/);
    expect(theirs.pue).to.equal('1.0');
  });

  it("writes floats as Python's repr writes them: shortest round trip, its exponent form", () => {
    // Each value beside what Python 3.11's repr() printed for it.
    const python: Array<[number, string]> = [
      [0, '0.0'],
      [-0, '-0.0'],
      [1, '1.0'],
      [0.1, '0.1'],
      [100, '100.0'],
      [1 / 3, '0.3333333333333333'],
      [123456.789, '123456.789'],
      [0.0001, '0.0001'],
      [0.00009999999999999999, '9.999999999999999e-05'],
      [1e-5, '1e-05'],
      [-3.5e-7, '-3.5e-07'],
      [5e-324, '5e-324'],
      [9999999999999998, '9999999999999998.0'],
      [1e16, '1e+16'],
      [1.2345678901234568e17, '1.2345678901234568e+17'],
      [1e22, '1e+22'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [value, repr] of python) {
      expect(formatRow({ duration: value }).split(',')[4], repr).to.equal(repr);
    }
  });

  it('parses back what it writes, with commas, quotes and line breaks inside fields', () => {
    const row = { project_name: 'a, "b"\nc', cpu_model: 'AMD EPYC 7B13', duration: 2 };
    const parsed = parseCsv(`${CSV_HEADER}\r\n${formatRow(row)}\r\n`);
    expect(parsed).to.have.length(2);
    expect(parsed[1][1]).to.equal('a, "b"\nc');
    expect(parsed[1][24]).to.equal('AMD EPYC 7B13');
  });

  it('appends rows and writes the header once', () => {
    const file = join(dir, 'emissions.csv');
    appendEmissionsRow(file, { project_name: 'one', duration: 1 });
    appendEmissionsRow(file, { project_name: 'two', duration: 2 });
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l === EXPECTED_HEADER)).to.have.length(1);
    const { header, records } = parseEmissionsCsv(text);
    expect(header).to.deep.equal([...CODECARBON_COLUMNS]);
    expect(records.map((r) => r.project_name)).to.deep.equal(['one', 'two']);
    expect(records[1].duration).to.equal('2.0'); // a float, as Python writes it
    expect(records[1].water_consumed).to.equal('');
  });

  it('writes no second header into a file another run created after it looked', () => {
    // Two runs ending together on a new file (`-o emissions.csv` in parallel jobs) both find
    // none; a second header would be a data row to pandas, turning every column into text.
    const file = join(dir, 'raced.csv');
    appendEmissionsRow(file, { project_name: 'first' });
    appendRowAfterReading(file, undefined, { project_name: 'second' });
    const { header, records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(header).to.deep.equal([...CODECARBON_COLUMNS]);
    expect(records.map((r) => r.project_name)).to.deep.equal(['first', 'second']);
  });

  it('writes the header and row into a file deleted after it was read', () => {
    // The file removed between the read of its header and the append (a cleanup between runs):
    // the claim's and the FIFO check's stat of it threw ENOENT, and the row was lost; the append
    // makes the file anew, as it did before either check.
    const file = join(dir, 'deleted.csv');
    appendRowAfterReading(file, EXPECTED_HEADER, { project_name: 'after' });
    const { header, records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(header).to.deep.equal([...CODECARBON_COLUMNS]);
    expect(records.map((r) => r.project_name)).to.deep.equal(['after']);
  });

  // `-o fifo` with no process reading it: open() waited for a reader, and a stop signal's
  // handler never ran, so the end of a run hung until a SIGKILL (619 s before it was killed).
  it('refuses a FIFO that no process reads at once, and writes to one that is read', async () => {
    const fifo = join(dir, 'no-reader.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).to.equal(0);
    const csv = new URL('../../../src/cli/csv.js', import.meta.url).href;
    const script = `import(${JSON.stringify(csv)}).then((m) => {
      try { m.appendEmissionsRow(process.argv[1], { project_name: 'p' }); }
      catch (err) { process.stderr.write(err.message); }
    })`;
    const alone = spawnSync(process.execPath, ['-e', script, fifo], {
      encoding: 'utf8',
      timeout: 10_000,
      killSignal: 'SIGKILL',
    });
    expect(alone.signal, 'killed: it waited for a reader').to.equal(null);
    expect(alone.stderr).to.equal(`cannot write ${fifo}: it is a FIFO that no process reads`);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let read = '';
    reader.stdout.on('data', (chunk) => {
      read += chunk;
    });
    // 'close', not 'exit': a child can exit before its stdout is read to the end (CI, 12-07).
    const ended = once(reader, 'close');
    try {
      // The writer opens after cat has opened its end: retried until then.
      let written = false;
      for (let i = 0; i < 50 && !written; i++) {
        try {
          appendEmissionsRow(fifo, { project_name: 'read' });
          written = true;
        } catch (err) {
          if (!(err instanceof CsvOutputError) || !/no process reads/.test(err.message)) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(written, 'cat never opened the FIFO in 5 s').to.equal(true);
      await ended;
    } finally {
      // A cat that no writer opened for waits in its open() of the FIFO for good, past the suite.
      reader.kill();
    }
    expect(parseEmissionsCsv(read).records.map((r) => r.project_name)).to.deep.equal(['read']);
  });

  it('leaves no file of its own beside the output when the first row fails to be written', () => {
    // A full disk fails the write of the file that is hard-linked into place: a run per
    // failure left a `.carbonscope-*.tmp` in the user's folder.
    const folder = join(dir, 'full');
    mkdirSync(folder);
    const original = fs.writeFileSync;
    fs.writeFileSync = ((...args: Parameters<typeof fs.writeFileSync>) => {
      original(args[0], '', args[2]);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as typeof fs.writeFileSync;
    syncBuiltinESMExports();
    try {
      expect(() => appendEmissionsRow(join(folder, 'out.csv'), {})).to.throw(
        CsvOutputError,
        /file system is full/,
      );
    } finally {
      fs.writeFileSync = original;
      syncBuiltinESMExports();
    }
    expect(readdirSync(folder)).to.deep.equal([]);
  });

  it('takes back the part of a row a full file system took, and says so', () => {
    // A disk that fills mid-row takes its first bytes and refuses the rest: the file kept a half
    // row (21 of 38 fields, no line break) while the run said the row was NOT written. A real
    // short write: bash's `ulimit -f 4` lets the file grow to 4,096 bytes, the row needs more.
    const file = join(dir, 'filled.csv');
    writeFileSync(file, `${CSV_HEADER}\n`);
    while (statSync(file).size < 3_800) appendEmissionsRow(file, { project_name: 'earlier' });
    const before = readFileSync(file, 'utf8');
    const csv = new URL('../../../src/cli/csv.js', import.meta.url).href;
    const script = `import(${JSON.stringify(csv)}).then((m) => {
      try { m.appendEmissionsRow(process.argv[1], { project_name: 'p', cpu_model: 'x'.repeat(400) }); }
      catch (err) { process.stdout.write(err.message); }
    })`;
    const child = spawnSync(
      'bash',
      ['-c', 'ulimit -f 4 && exec "$0" -e "$1" "$2"', process.execPath, script, file],
      {
        encoding: 'utf8',
      },
    );
    expect(child.stdout, child.stderr).to.match(/^cannot write .*filled\.csv: /);
    expect(readFileSync(file, 'utf8')).to.equal(before);
  });

  it('writes a whole row or none through the descriptor of -o /dev/stdout, a file', () => {
    // `-o /dev/stdout >> log` writes through stdout's own descriptor: one writeSync, whose short
    // write (a file system that fills mid-row) returned in silence, the log kept half a row and
    // the run said nothing. The same real short write as above: `ulimit -f 4`.
    const file = join(dir, 'stdout.csv');
    writeFileSync(file, `${CSV_HEADER}\n`);
    while (statSync(file).size < 3_800) appendEmissionsRow(file, { project_name: 'earlier' });
    const before = readFileSync(file, 'utf8');
    const csv = new URL('../../../src/cli/csv.js', import.meta.url).href;
    const script = `import(${JSON.stringify(csv)}).then((m) => {
      try { m.appendEmissionsRow('/dev/stdout', { project_name: 'p', cpu_model: 'x'.repeat(400) }); }
      catch (err) { process.stderr.write(err.message); }
    })`;
    const child = spawnSync(
      'bash',
      ['-c', 'ulimit -f 4 && exec "$0" -e "$1" >> "$2"', process.execPath, script, file],
      { encoding: 'utf8' },
    );
    expect(child.stderr).to.match(/^cannot write \/dev\/stdout: /);
    expect(readFileSync(file, 'utf8')).to.equal(before);
  });

  it('takes back nothing from a file the path no longer names, rotated as the write failed', () => {
    // The half row is cut only where the bytes before the file's end are ours. Read back through
    // the path, they were another file's: rotated meanwhile (`mv emissions.csv old.csv`), the new
    // file ending with the same bytes at that offset, the cut took another run's row from ours.
    const file = join(dir, 'rotated.csv');
    const rotated = join(dir, 'old.csv');
    writeFileSync(file, `${CSV_HEADER}\n`);
    const other = `${formatRow({ project_name: 'other' })}\n`;
    const original = fs.writeSync;
    let calls = 0;
    fs.writeSync = ((fd: number, data: Buffer, offset: number) => {
      calls++;
      if (calls === 1) return original(fd, data, offset, 100); // the row's first 100 bytes
      fs.writeSync = original; // appendFileSync and writeFileSync write through it
      fs.renameSync(file, rotated);
      fs.appendFileSync(rotated, other);
      const size = fs.statSync(rotated).size;
      fs.writeFileSync(file, Buffer.concat([Buffer.alloc(size - 100, 'x'), data.subarray(0, 100)]));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    try {
      expect(() =>
        appendEmissionsRow(file, { project_name: 'p', cpu_model: 'x'.repeat(200) }),
      ).to.throw(CsvOutputError, /file system is full/);
    } finally {
      fs.writeSync = original;
      syncBuiltinESMExports();
    }
    expect(readFileSync(rotated, 'utf8').endsWith(other)).to.equal(true);
  });

  it('starts its row on a line of its own when the file does not end with a line break', () => {
    // A file saved by an editor without its last line break: appended as it stands, the row
    // would run on from the last one (75 fields to pandas, which then reads nothing at all).
    const file = join(dir, 'no-last-break.csv');
    writeFileSync(file, `${CSV_HEADER}\r\n${formatRow({ project_name: 'edited' })}`);
    appendEmissionsRow(file, { project_name: 'p' });
    const { records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(records.map((r) => r.project_name)).to.deep.equal(['edited', 'p']);
    const headerOnly = join(dir, 'header-only.csv');
    writeFileSync(headerOnly, CSV_HEADER);
    appendEmissionsRow(headerOnly, { project_name: 'q' });
    expect(readFileSync(headerOnly, 'utf8')).to.equal(
      `${CSV_HEADER}\n${formatRow({ project_name: 'q' })}\n`,
    );
  });

  it('writes the header into an existing empty file', () => {
    const file = join(dir, 'empty.csv');
    writeFileSync(file, '');
    appendEmissionsRow(file, { project_name: 'p' });
    expect(readFileSync(file, 'utf8').startsWith(`${EXPECTED_HEADER}\n`)).to.equal(true);
  });

  it('writes no second header into an empty file another run wrote its header into first', () => {
    // `touch emissions.csv` (or a CI cache that restores it empty) before a matrix of runs: every
    // run ending together found it empty and wrote a header (1 round in 3 of 8 runs of `true`).
    const file = join(dir, 'emptied.csv');
    writeFileSync(file, '');
    appendEmissionsRow(file, { project_name: 'first' });
    appendRowAfterReading(file, '', { project_name: 'second' });
    const { header, records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(header).to.deep.equal([...CODECARBON_COLUMNS]);
    expect(records.map((r) => r.project_name)).to.deep.equal(['first', 'second']);
  });

  it('takes over a header claim a killed run left, and holds it while it writes', () => {
    // A run killed while it held the claim leaves `.<name>.carbonscope-header`. The run that took
    // it over removed it and wrote unclaimed, as did every run ending with it: the second header
    // the claim is there to prevent, each after waiting out the claim.
    const file = join(dir, 'claimed.csv');
    const claim = join(dir, '.claimed.csv.carbonscope-header');
    writeFileSync(file, '');
    writeFileSync(claim, '');
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(claim, hourAgo, hourAgo);
    const original = fs.writeSync;
    const claimed: boolean[] = [];
    fs.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
      claimed.push(existsSync(claim));
      return original(...args);
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    try {
      appendEmissionsRow(file, { project_name: 'p' });
    } finally {
      fs.writeSync = original;
      syncBuiltinESMExports();
    }
    expect(claimed).to.deep.equal([true]);
    expect(existsSync(claim)).to.equal(false);
    const { header, records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(header).to.deep.equal([...CODECARBON_COLUMNS]);
    expect(records.map((r) => r.project_name)).to.deep.equal(['p']);
  });

  it('waits out a live header claim for 2 s of its own, whatever the wall clock does', () => {
    // The wait's deadline was on the wall clock: one stepped back an hour as the wait began (NTP,
    // a VM resumed) made the 2 s wait for a held claim an hour's. The stub steps it back after
    // its first read, and throws once read 1,200 times: 3 times the 400 steps of 5 ms in 2 s.
    const file = join(dir, 'stepped.csv');
    const claim = join(dir, '.stepped.csv.carbonscope-header');
    writeFileSync(file, '');
    writeFileSync(claim, '');
    const wall = Date.now;
    let reads = 0;
    Date.now = () => {
      reads++;
      if (reads > 1_200) throw new Error('still waiting after 1,200 reads of the wall clock');
      return reads === 1 ? wall() : wall() - 3_600_000;
    };
    try {
      appendEmissionsRow(file, { project_name: 'p' });
    } finally {
      Date.now = wall;
    }
    // Still held by its owner: written unclaimed, the claim left to it.
    expect(existsSync(claim)).to.equal(true);
    const { records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(records.map((r) => r.project_name)).to.deep.equal(['p']);
  });

  it('writes one header and every row whole when 8 processes append to one empty file', async () => {
    const file = join(dir, 'matrix.csv');
    writeFileSync(file, '');
    const csv = new URL('../../../src/cli/csv.js', import.meta.url).href;
    const script = `import(${JSON.stringify(csv)}).then((m) =>
      m.appendEmissionsRow(process.argv[1], { project_name: process.argv[2], cpu_model: 'x'.repeat(2000) }))`;
    const runs = Array.from({ length: 8 }, (_, i) => {
      const child = spawn(process.execPath, ['-e', script, file, `job-${i}`], { stdio: 'inherit' });
      return once(child, 'exit');
    });
    expect((await Promise.all(runs)).map(([code]) => code)).to.deep.equal(Array(8).fill(0));
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l === EXPECTED_HEADER)).to.have.length(1);
    const { header, records } = parseEmissionsCsv(text);
    expect(header).to.deep.equal([...CODECARBON_COLUMNS]);
    expect(records.map((r) => r.project_name).sort()).to.deep.equal(
      Array.from({ length: 8 }, (_, i) => `job-${i}`),
    );
    expect(records.every((r) => r.cpu_model === 'x'.repeat(2000))).to.equal(true);
  });

  it("starts no blank row after another run's row that it reads half-written", async () => {
    // A row is one write, but the file grows by it a 4 KiB page at a time: a run reading the
    // file's end between two pages of another run's row took it for a last line without its
    // line break, and began its own row with one, a blank row once the other's was whole (6 in
    // 50 rounds of 8 runs of 200 KB rows under load). Here the other run is this test, halfway
    // through its row, holding the claim that every run's append takes; it writes the rest of
    // its row after 300 ms, so a row appended unclaimed lands inside it.
    await appendBesideHalfRow(dir, 'half-written.csv', 'path');
  });

  it('takes the same claim through -o /dev/stdout >> file, the claim beside the file itself', async () => {
    // `-o /dev/stdout >> log` writes through the shell's descriptor; the claim went unasked (beside
    // `/dev/stdout` there is no folder to make one in), so a row read a half-written one's end as
    // an open last line and began with a line break, as above. The claim is now beside the file
    // stdout goes to (its real path), the one `-o log` takes: held here, the run waits for it.
    expect(existsSync('/dev/stdout'), 'this test needs /dev/stdout').to.equal(true);
    await appendBesideHalfRow(dir, 'stdout-half.csv', 'stdout');
  });

  it('takes the claim beside the file a symlink leads to, the one a run naming the file takes', async () => {
    // `-o link.csv` claimed beside the link, `-o file.csv` and `-o /dev/stdout >> link.csv`
    // beside the file: runs naming one file two ways excluded none of each other.
    await appendBesideHalfRow(dir, 'linked-half.csv', 'symlink');
  });

  it('writes the header once into a file with only a line break or a BOM in it', () => {
    // `echo > emissions.csv` leaves a line break; Excel's "CSV UTF-8" of an empty sheet, a
    // BOM. pandas skips the blank line and the BOM; read as the header, the empty line had
    // every run write a header again (a data row to pandas), and the BOM was refused.
    for (const [name, start] of [
      ['blank.csv', '\n'],
      ['blank-crlf.csv', '\r\n'],
      ['bom.csv', '\uFEFF'],
      ['bom-header-crlf.csv', `\uFEFF${CSV_HEADER}\r\n`],
    ]) {
      const file = join(dir, name);
      writeFileSync(file, start);
      for (const project of ['a', 'b']) {
        checkAppendable(file);
        appendEmissionsRow(file, { project_name: project });
      }
      const { header, records } = parseEmissionsCsv(readFileSync(file, 'utf8').trimStart());
      expect(header, name).to.deep.equal([...CODECARBON_COLUMNS]);
      expect(
        records.map((r) => r.project_name),
        name,
      ).to.deep.equal(['a', 'b']);
    }
  });

  it('finds the header after more blank lines than one read of 4 KiB holds', () => {
    // Only the first 4 KiB were read: past 4,096 blank lines (or 2,048 of CRLF) the file read as
    // empty, and a second header went under the rows already there (a data row to pandas); a
    // header that began within the 4 KiB but ended past them was refused as other columns.
    for (const [name, blank] of [
      ['blank-lines.csv', '\n'.repeat(5000)],
      ['blank-crlf-lines.csv', '\r\n'.repeat(2100)],
      ['header-across.csv', '\n'.repeat(4000)],
    ]) {
      const file = join(dir, name);
      writeFileSync(file, `${blank}${CSV_HEADER}\n${formatRow({ project_name: 'before' })}\n`);
      checkAppendable(file);
      appendEmissionsRow(file, { project_name: 'after' });
      const { header, records } = parseEmissionsCsv(readFileSync(file, 'utf8').trimStart());
      expect(header, name).to.deep.equal([...CODECARBON_COLUMNS]);
      expect(
        records.map((r) => r.project_name),
        name,
      ).to.deep.equal(['before', 'after']);
    }
  });

  it("appends under CodeCarbon's columns in another order, in the file's order, as it does", () => {
    // CodeCarbon 3.3.2 compares the sorted names and writes its values in the file's order:
    // a file re-saved with its columns sorted (pandas `df[sorted(df.columns)]`) stays usable.
    const file = join(dir, 'sorted.csv');
    const sorted = [...CODECARBON_COLUMNS].sort();
    writeFileSync(file, `${sorted.map((c) => `"${c}"`).join(',')}\n`);
    checkAppendable(file);
    appendEmissionsRow(file, { project_name: 'p', duration: 2, cpu_count: 4 });
    const { header, records } = parseEmissionsCsv(readFileSync(file, 'utf8'));
    expect(header).to.deep.equal(sorted);
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ project_name: 'p', duration: '2.0', cpu_count: '4' });
  });

  it('refuses a header with a CodeCarbon column twice or one missing', () => {
    const twice = join(dir, 'twice.csv');
    const columns = [...CODECARBON_COLUMNS];
    writeFileSync(twice, `${[...columns.slice(1), columns[1]].join(',')}\n`);
    expect(() => appendEmissionsRow(twice, {})).to.throw(CsvOutputError, /other columns/);
    const missing = join(dir, 'missing.csv');
    writeFileSync(missing, `${columns.slice(1).join(',')}\n`);
    expect(() => checkAppendable(missing)).to.throw(CsvOutputError, /other columns/);
  });

  it('refuses to append under a different header, leaving the file as it was', () => {
    const file = join(dir, 'other.csv');
    writeFileSync(file, 'timestamp,project_name\n1,2\n');
    expect(() => appendEmissionsRow(file, { project_name: 'p' })).to.throw(
      CsvOutputError,
      /other columns/,
    );
    expect(readFileSync(file, 'utf8')).to.equal('timestamp,project_name\n1,2\n');
  });

  it('says why a file cannot be written', () => {
    expect(() => appendEmissionsRow(join(dir, 'no', 'such', 'dir.csv'), {})).to.throw(
      CsvOutputError,
      /folder does not exist/,
    );
    expect(() => appendEmissionsRow(dir, {})).to.throw(CsvOutputError, /cannot write/);
  });

  it('tells beforehand whether a row could be appended, creating nothing', () => {
    const fresh = join(dir, 'fresh.csv');
    checkAppendable(fresh);
    expect(existsSync(fresh), 'created').to.equal(false);
    const existing = join(dir, 'existing.csv');
    appendEmissionsRow(existing, { project_name: 'p' });
    checkAppendable(existing);
    const other = join(dir, 'other-columns.csv');
    writeFileSync(other, 'a,b\n1,2\n');
    expect(() => checkAppendable(other)).to.throw(CsvOutputError, /other columns/);
    expect(readFileSync(other, 'utf8')).to.equal('a,b\n1,2\n');
    expect(() => checkAppendable(join(dir, 'no', 'such.csv'))).to.throw(
      CsvOutputError,
      /: its folder does not exist$/,
    );
    expect(() => checkAppendable(dir)).to.throw(CsvOutputError, /: it is a folder$/);
    expect(() => checkAppendable(join(other, 'x.csv'))).to.throw(
      CsvOutputError,
      /: a part of its path is a file, not a folder$/,
    );
  });
});
