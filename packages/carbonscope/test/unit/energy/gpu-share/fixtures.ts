import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libraryRoot } from '../../../../src/paths.js';

/** A file of the real H200 capture (test/fixtures/energy/h200/call2), verbatim. */
export function h200Text(name: string): string {
  return readFileSync(
    join(libraryRoot, 'test', 'fixtures', 'energy', 'h200', 'call2', name),
    'utf8',
  );
}

/**
 * A piped capture's lines as pmon printed them: each line there is `<ms since spawn>\t<line>`;
 * the capture's last line, `exit\t0 null`, stays in as the junk it then is (`0 null`).
 */
export function pipedLines(name: string): string[] {
  return h200Text(name)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.slice(line.indexOf('\t') + 1));
}

/** The same, one array per block of lines that arrived together (one pmon sample). */
export function pipedBlocks(name: string): string[][] {
  const blocks = new Map<string, string[]>();
  for (const line of h200Text(name).split('\n')) {
    if (line === '' || line.startsWith('exit')) continue;
    const at = line.slice(0, line.indexOf('\t'));
    const block = blocks.get(at) ?? [];
    block.push(line.slice(at.length + 1));
    blocks.set(at, block);
  }
  return [...blocks.values()];
}
