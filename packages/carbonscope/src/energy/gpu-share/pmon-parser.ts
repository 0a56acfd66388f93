/** One process row of `nvidia-smi pmon`: the fields the shares need. */
export interface PmonRow {
  /** The GPU's index, as `--query-gpu=index` numbers it. */
  gpu: number;
  /** undefined for the `-` row of a GPU no process uses. */
  pid: number | undefined;
  /**
   * SM utilization over the sample, %; undefined for `-` (pmon has no sample): what that means
   * depends on the GPU (idle where pmon reads utilization, unknown in MIG mode), told later.
   */
  sm: number | undefined;
}

const INTEGER = /^\d+$/;

/**
 * Reads `nvidia-smi pmon` line by line. Columns are found by the names of the header line
 * (`# gpu pid type sm mem ...`), never by position: `-s um`, `-o DT` and newer drivers add or
 * move columns. Comment lines (the header, its units line), blank lines and anything that is
 * not a row under the last header (an error message, a banner) give no row.
 */
export class PmonParser {
  private gpuAt = -1;
  private pidAt = -1;
  private smAt = -1;
  private width = 0;
  /** Reused for every row: read it before the next line. */
  private readonly row: PmonRow = { gpu: 0, pid: undefined, sm: 0 };

  /** True once a header naming gpu, pid and sm was read. */
  get ready(): boolean {
    return this.smAt >= 0;
  }

  /** The row on this line, or undefined; the object is reused (read it before the next line). */
  line(text: string): PmonRow | undefined {
    const trimmed = text.trim();
    if (trimmed.startsWith('#')) {
      this.header(trimmed.slice(1).trim().split(/\s+/));
      return undefined;
    }
    if (!this.ready || trimmed === '') return undefined;
    const fields = trimmed.split(/\s+/);
    if (fields.length < this.width) return undefined;
    const gpu = fields[this.gpuAt];
    const pid = fields[this.pidAt];
    const sm = fields[this.smAt];
    if (!INTEGER.test(gpu)) return undefined;
    if (pid !== '-' && !INTEGER.test(pid)) return undefined;
    if (sm !== '-' && !INTEGER.test(sm)) return undefined;
    this.row.gpu = Number(gpu);
    this.row.pid = pid === '-' ? undefined : Number(pid);
    this.row.sm = sm === '-' ? undefined : Number(sm);
    return this.row;
  }

  /** A comment line that names gpu, pid and sm is the header; its units line names none. */
  private header(names: string[]): void {
    const gpu = names.indexOf('gpu');
    const pid = names.indexOf('pid');
    const sm = names.indexOf('sm');
    if (gpu < 0 || pid < 0 || sm < 0) return;
    this.gpuAt = gpu;
    this.pidAt = pid;
    this.smAt = sm;
    this.width = Math.max(gpu, pid, sm) + 1;
  }
}
