/** What a stream may hold unwritten before lines are left out: a Linux pipe's own buffer. */
export const MAX_QUEUED_BYTES = 64 * 1024;

/**
 * Writes each line to `stream`, or leaves it out while the stream holds `maxQueued` bytes it
 * could not write: Node queues a pipe's writes in memory, and a supervisor that never reads the
 * stderr it gave grew monitor's queue by a line an interval, for ever. The count of those left
 * out is said before the next line that goes.
 */
export function boundedLines(
  stream: NodeJS.WritableStream & { readonly writableLength: number },
  maxQueued = MAX_QUEUED_BYTES,
): (line: string) => void {
  let leftOut = 0;
  return (line) => {
    if (stream.writableLength >= maxQueued) {
      leftOut++;
      return;
    }
    if (leftOut > 0) {
      stream.write(`carbonscope: ${leftOut} lines left out while stderr was not read\n`);
      leftOut = 0;
    }
    stream.write(line);
  };
}
