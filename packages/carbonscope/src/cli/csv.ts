import { randomUUID } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  linkSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isPermissionRefusal } from '../permission-refusal.js';
import { withHeaderClaim } from './header-claim.js';
import { lastLineOpen } from './line-end.js';
import { removeQuietly } from './remove-quietly.js';

/** CodeCarbon 3.x emissions.csv columns, in its order, so its tooling reads our files. */
export const CODECARBON_COLUMNS = [
  'timestamp',
  'project_name',
  'run_id',
  'experiment_id',
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
  'country_name',
  'country_iso_code',
  'region',
  'cloud_provider',
  'cloud_region',
  'os',
  'python_version',
  'codecarbon_version',
  'cpu_count',
  'cpu_model',
  'gpu_count',
  'gpu_model',
  'longitude',
  'latitude',
  'ram_total_size',
  'tracking_mode',
  'cpu_utilization_percent',
  'gpu_utilization_percent',
  'ram_utilization_percent',
  'ram_used_gb',
  'on_cloud',
  'pue',
  'wue',
] as const;

export type CodeCarbonColumn = (typeof CODECARBON_COLUMNS)[number];

/**
 * One row. Units as CodeCarbon's: duration s, emissions kg CO2e, emissions_rate kg/s, power W,
 * energy kWh, ram sizes GB. A missing field is written empty: unknown, never invented. Numbers
 * are written as CodeCarbon's pandas writes them: counts as integers, the rest as Python floats.
 */
export type EmissionsRow = Partial<Record<CodeCarbonColumn, string | number | boolean>>;

export const CSV_HEADER = CODECARBON_COLUMNS.join(',');

/** Text a spreadsheet would run as a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. Text that a
 * spreadsheet would read as a formula (`=HYPERLINK(...)` as a --project-name) gets a leading
 * apostrophe, so it is shown as text; numbers are written as they are.
 */
export function csvField(value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' && !Number.isFinite(value)) return '';
  const text = typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The columns CodeCarbon 3.3.2 fills with Python ints (`2`, `0`); its other numbers are floats. */
const INTEGER_COLUMNS: ReadonlySet<CodeCarbonColumn> = new Set(['cpu_count', 'gpu_count']);

/**
 * A float as Python's repr writes it (CodeCarbon's pandas writes floats so): the shortest digits
 * that read back to it, as JavaScript's; `.0` on a whole number; an exponent below 1e-4 and from
 * 1e16 on, with a sign and at least two digits (`2.5e-05`, `1e+16`), where JavaScript's is
 * below 1e-6 and from 1e21 on (`2.5e-7`).
 */
export function pythonFloat(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const [digits, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const magnitude = String(Math.abs(exponent)).padStart(2, '0');
    return `${digits}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  const fixed = Object.is(value, -0) ? '-0' : String(value);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** A field of `column`: its number as CodeCarbon writes that column's, anything else as text. */
function columnField(column: CodeCarbonColumn, value: EmissionsRow[CodeCarbonColumn]): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return csvField(value);
  return INTEGER_COLUMNS.has(column) ? String(Math.round(value)) : pythonFloat(value);
}

/** The row's fields in `columns`' order: CodeCarbon's, or a file's own order of them. */
export function formatRow(
  row: EmissionsRow,
  columns: readonly CodeCarbonColumn[] = CODECARBON_COLUMNS,
): string {
  return columns.map((column) => columnField(column, row[column])).join(',');
}

export class CsvOutputError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`cannot write ${path}: ${message}`);
    this.name = 'CsvOutputError';
  }
}

/**
 * The first line of a file but for a BOM and blank lines, '' when it has none, undefined when
 * it does not exist. A pipe, a
 * terminal or a device (`-o /dev/stdout`) counts as empty: it has no first line to read back,
 * and reading one would fail (ESPIPE) or wait on its input.
 */
function firstLine(path: string): string | undefined {
  let fd: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile() && !stat.isDirectory()) return '';
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return lineAfterBlanks(fd);
  } finally {
    closeSync(fd);
  }
}

/** The most of a first line read: CodeCarbon's header is about 500 bytes. */
const MAX_FIRST_LINE_BYTES = 64 * 1024;

/**
 * The first line of `fd` after a BOM and blank lines, which pandas, reading these files, skips
 * before the header; read 4 KiB at a time, as many as the blank lines take: one read alone took a
 * file whose blank lines filled it for an empty one, and wrote a second header under its rows.
 * Read as latin1, one character a byte, so a chunk's end cuts no character; UTF-8 once whole.
 */
function lineAfterBlanks(fd: number): string {
  const buf = Buffer.alloc(4096);
  let position = 0;
  let kept = '';
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, position);
    const chunk = buf.subarray(0, n).toString('latin1');
    kept = `${kept}${position === 0 ? chunk.replace(/^\xEF\xBB\xBF/, '') : chunk}`;
    position += n;
    // A CRLF cut in two leaves its CR here, stripped with its LF once the next chunk is read.
    kept = kept.replace(/^(?:\r?\n)+/, '');
    const end = kept.search(/\r?\n/);
    if (end >= 0) kept = kept.slice(0, end);
    if (end >= 0 || n === 0 || kept.length > MAX_FIRST_LINE_BYTES) {
      return Buffer.from(kept, 'latin1').toString('utf8');
    }
  }
}

const SORTED_COLUMNS = [...CODECARBON_COLUMNS].sort().join(',');

/**
 * The columns, in its order, of a file whose first line is `header` (none yet: CodeCarbon's);
 * throws unless they are CodeCarbon's. In any order, as CodeCarbon 3.3.2 takes them (it compares
 * the sorted names and writes a row in the file's order), names quoted or not.
 */
function fileColumns(path: string, header: string | undefined): readonly CodeCarbonColumn[] {
  if (header === undefined || header === '') return CODECARBON_COLUMNS;
  if (!isCodeCarbonHeader(header)) {
    throw new CsvOutputError(
      path,
      'it exists with other columns than CodeCarbon 3.x emissions.csv; choose another --output file',
    );
  }
  return (parseCsv(header)[0] ?? []) as CodeCarbonColumn[];
}

/** Whether `line` names CodeCarbon's columns, in any order (fileColumns would take it). */
function isCodeCarbonHeader(line: string | undefined): boolean {
  if (line === undefined || line === '') return false;
  return [...(parseCsv(line)[0] ?? [])].sort().join(',') === SORTED_COLUMNS;
}

/** The CsvOutputError for what writing `path` threw, the reason in words. */
function outputError(path: string, err: unknown): CsvOutputError {
  if (err instanceof CsvOutputError) return err;
  const e = err as NodeJS.ErrnoException;
  // Reading the file and its folder, and writing beside it (the header's hard link), are all
  // needed: named at once, where Node's own words name one flag and no path.
  if (isPermissionRefusal(err)) {
    const folder = dirname(resolve(path));
    return new CsvOutputError(
      path,
      `the permission model refuses it: grant --allow-fs-read=${folder} --allow-fs-write=${folder}`,
    );
  }
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOENT: 'its folder does not exist',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of its path is a file, not a folder',
    EROFS: 'its file system is read-only',
    ENOSPC: 'its file system is full',
    EDQUOT: 'its disk quota is used up',
    EFBIG: 'it would pass the largest file this process may write (ulimit -f)',
  };
  return new CsvOutputError(path, (e.code && reasons[e.code]) ?? e.message);
}

/**
 * The descriptor of stdout or stderr when `path` is the regular file it writes to
 * (`-o /dev/stdout > file`, or the file named twice). Opened anew with O_APPEND, the row would
 * go at the file's end while that descriptor's offset stayed before it, and the JSON or the
 * summary written through it next would overwrite the row.
 */
function stdioFileOf(path: string): number | undefined {
  let target: Stats;
  try {
    target = statSync(path);
  } catch {
    return undefined;
  }
  if (!target.isFile()) return undefined;
  for (const fd of [1, 2]) {
    try {
      const stdio = fstatSync(fd);
      if (stdio.isFile() && stdio.dev === target.dev && stdio.ino === target.ino) return fd;
    } catch {
      // Closed: nothing writes through it.
    }
  }
  return undefined;
}

/**
 * The path whose claim an append to `path` takes: the real path of the regular file it names, so
 * that `-o log`, `-o link-to-log` and `-o /dev/stdout >> log` (stdio's descriptor `fd`; on Linux
 * /dev/stdout leads through /proc/self/fd/1 to the file) take one claim, beside the file, and none
 * is tried in /dev. Undefined, written unclaimed: no regular file, or a real path that names no
 * longer the descriptor's file (deleted or replaced meanwhile).
 */
function claimPathOf(path: string, fd: number | undefined): string | undefined {
  // Stat first: a pipe's /dev/stdout has no real path (/proc/self/fd/1 reads `pipe:[…]`).
  if (fd === undefined) {
    const stat = statSync(path, { throwIfNoEntry: false });
    // Deleted since its header was read: the append makes it anew, claimed beside its name.
    if (stat === undefined) return path;
    return stat.isFile() ? realpathSync.native(path) : undefined;
  }
  try {
    const real = realpathSync.native(path);
    const written = fstatSync(fd);
    const named = statSync(real);
    return written.dev === named.dev && written.ino === named.ino ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Link errors of file systems without hard links (FAT, some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/**
 * Creates `path` holding `text`, false when it exists. The text is written to a file beside it
 * first and hard-linked into place, so no other run finds it empty, or without the header,
 * and writes a header of its own. Without hard links, an exclusive create does the same but
 * for the moment between creating and writing.
 */
function createWith(path: string, text: string): boolean {
  const temporary = join(dirname(path), `.carbonscope-${process.pid}-${randomUUID()}.tmp`);
  try {
    writeFileSync(temporary, text, { flag: 'wx' });
    linkSync(temporary, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
  } finally {
    removeQuietly(temporary);
  }
  return createExclusively(path, text);
}

function createExclusively(path: string, text: string): boolean {
  try {
    writeFileSync(path, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Appends `text` in full or not at all. A file system that fills mid-row takes the row's first
 * bytes and refuses the rest: the file kept a half row, no line break, that the next run's row
 * went under, and pandas read as a row of empty fields, where the run said it wrote none.
 */
function appendWhole(path: string, text: string): void {
  const fd = openAppending(path);
  try {
    writeWhole(path, fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * `path` opened to append. A FIFO that no process reads held open() until one did: the end of a
 * run waited there, a stop signal unheard (its handler never ran), until a SIGKILL. A FIFO is
 * first opened without blocking, which fails at once where it has no reader (ENXIO), and held
 * open meanwhile so that the reader found cannot leave between the two opens.
 */
function openAppending(path: string): number {
  if (!statSync(path, { throwIfNoEntry: false })?.isFIFO()) return openSync(path, 'a');
  let probe: number;
  try {
    probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    throw new CsvOutputError(path, 'it is a FIFO that no process reads');
  }
  try {
    return openSync(path, 'a');
  } finally {
    closeSync(probe);
  }
}

/**
 * Writes `text` to `fd` (open on `path`) in full or not at all: a write may take part of it, and
 * one writeSync then returned with the rest unwritten and no error (stdout's own descriptor, as
 * `-o /dev/stdout >> log` writes, lost half a row so).
 */
function writeWhole(path: string, fd: number, text: string): void {
  const data = Buffer.from(text);
  let written = 0;
  try {
    while (written < data.length) written += writeSync(fd, data, written);
  } catch (err) {
    if (written > 0) takeBack(path, fd, data.subarray(0, written));
    throw err;
  }
}

/**
 * Truncates the part of a row that `fd`'s write left at the end of the regular file `path`.
 * Only while it is still the file's end: on a full disk another run's append fails as well,
 * and where one got through after it, cutting would lose that run's row, not this half one.
 * One getting through between the read and the cut is cut with it: it needs space freed in those
 * microseconds, or a writer with a larger `ulimit -f`; closing that needs a lock every run takes.
 */
function takeBack(path: string, fd: number, part: Buffer): void {
  try {
    const stat = fstatSync(fd);
    const { size } = stat;
    if (!stat.isFile() || size < part.length) return;
    const tail = Buffer.alloc(part.length);
    // `fd` is opened for writing only (a FIFO opened for reading too would read the row back).
    // The path may name another file by now (rotated, a symlink moved): its bytes prove nothing.
    const reader = openSync(path, 'r');
    try {
      const read = fstatSync(reader);
      if (read.dev !== stat.dev || read.ino !== stat.ino) return;
      readSync(reader, tail, 0, part.length, size - part.length);
    } finally {
      closeSync(reader);
    }
    if (tail.equals(part)) ftruncateSync(fd, size - part.length);
  } catch {
    // The write's own error is what the run reports; the half row stays, as it did before.
  }
}

/**
 * Appends one row; writes the header first when the file is new or empty. A file with other
 * columns than CodeCarbon's (an older CodeCarbon layout, another CSV) is left untouched:
 * appending would put values under the wrong columns. Throws CsvOutputError with the reason in words.
 */
export function appendEmissionsRow(path: string, row: EmissionsRow): void {
  let header: string | undefined;
  try {
    header = firstLine(path);
  } catch (err) {
    throw outputError(path, err);
  }
  appendRowAfterReading(path, header, row);
}

/**
 * appendEmissionsRow once `header` was read from `path` (undefined: it did not exist); exported
 * so that a test can give a header that another run has made stale since.
 */
export function appendRowAfterReading(
  path: string,
  header: string | undefined,
  row: EmissionsRow,
): void {
  try {
    const first = `${CSV_HEADER}\n${formatRow(row)}\n`;
    if (header === undefined && createWith(path, first)) return;
    const fd = stdioFileOf(path);
    // Every append to a regular file is claimed, not only the header's: a row of another run
    // crossing a 4 KiB page boundary is seen half-written between its pages (the size grows page
    // by page), and read as a last line without its line break, this run's row began with one:
    // a blank row once the other's was whole (1 round in 160 of 8 runs of 2 KB rows under load,
    // 6 in 50 of 200 KB rows). Read again under the claim: another run may have written the
    // header, or a row, since.
    const claimed = claimPathOf(path, fd);
    if (claimed !== undefined) {
      withHeaderClaim(claimed, () => appendAfter(path, firstLine(path), row, fd));
      return;
    }
    // Another run made it meanwhile: its header, not the one seen before, is the file's.
    appendAfter(path, header === undefined ? firstLine(path) : header, row, fd);
  } catch (err) {
    throw outputError(path, err);
  }
}

/** Appends `row` to `path`, whose first line is `current`, through stdio's `fd` if given. */
function appendAfter(
  path: string,
  current: string | undefined,
  row: EmissionsRow,
  fd: number | undefined,
): void {
  // The file stdout or stderr goes to is a stream, as a pipe is: what the command wrote there
  // since the start check (which refused other columns then) comes before a header of ours.
  const stream = fd !== undefined && !isCodeCarbonHeader(current);
  const columns = stream ? CODECARBON_COLUMNS : fileColumns(path, current);
  const fresh = stream || current === undefined || current === '';
  const open = current !== undefined && current !== '' && lastLineOpen(path);
  const text = `${open ? '\n' : ''}${fresh ? `${CSV_HEADER}\n` : ''}${formatRow(row, columns)}\n`;
  if (fd === undefined) appendWhole(path, text);
  else writeWhole(path, fd, text);
}

/**
 * Throws the CsvOutputError appendEmissionsRow would throw now, creating nothing: `run` and
 * `monitor` check their --output before they measure, where finding out at the end would lose
 * what they measured (a long run's) to a mistyped folder.
 */
export function checkAppendable(path: string): void {
  try {
    const header = firstLine(path);
    // A stream, as at the end: the header and row follow what it holds, through the descriptor
    // the shell opened for writing (`>> log`, where a previous run's command wrote first).
    if (stdioFileOf(path) !== undefined) return;
    fileColumns(path, header);
    if (header === undefined) accessSync(dirname(path), constants.W_OK | constants.X_OK);
    else accessSync(path, constants.W_OK);
  } catch (err) {
    throw outputError(path, err);
  }
}

/** Parses RFC 4180 CSV text into rows of fields (for tests and for reading files back). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Reads an emissions.csv back as records keyed by its header. */
export function parseEmissionsCsv(text: string): {
  header: string[];
  records: Array<Record<string, string>>;
} {
  const [header = [], ...rows] = parseCsv(text);
  return {
    header,
    records: rows.map((fields) => Object.fromEntries(header.map((h, i) => [h, fields[i] ?? '']))),
  };
}
