import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libraryRoot } from '../../src/paths.js';

export const PACKAGE_README = join(libraryRoot, 'README.md');
export const ROOT_README = join(libraryRoot, '..', '..', 'README.md');
export const EXAMPLES_README = join(libraryRoot, '..', '..', 'examples', 'README.md');

export interface Block {
  lang: string;
  code: string;
}

/**
 * The fenced code blocks of a README, in order; with `section`, only those under that `## `
 * heading (up to the next one), so that a block elsewhere with the same words is not taken.
 */
export function readmeBlocks(file: string, section?: string): Block[] {
  let text = readFileSync(file, 'utf8');
  if (section !== undefined) {
    const start = text.indexOf(`\n## ${section}\n`);
    if (start < 0) throw new Error(`${file} has no section "${section}"`);
    const end = text.indexOf('\n## ', start + 1);
    text = text.slice(start, end < 0 ? undefined : end);
  }
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] ?? '',
    code: m[2] ?? '',
  }));
}

/** The one block of `blocks` that contains every one of `marks`; throws where none or several do. */
export function blockWith(blocks: Block[], ...marks: string[]): string {
  const found = blocks.filter((b) => marks.every((m) => b.code.includes(m)));
  if (found.length !== 1) {
    throw new Error(`${found.length} README blocks contain ${marks.join(' and ')}, not 1`);
  }
  return found[0]?.code ?? '';
}

/** An object's fields as a README comment gives them: `{ a, b, ... }`, `...` for "and more". */
export interface Shape {
  line: number;
  keys: string[];
  open: boolean;
}

const FIELDS = /\{ ([\w, ]+?)(, \.\.\.)? \}/;
/** `// footprint: { ... }` after a statement: the fields of the variable named. */
const NAMED = new RegExp(String.raw`// (\w+): ${FIELDS.source}`);
/** `console.log(x); // { ... }`: the fields of what is logged. */
const LOGGED = new RegExp(String.raw`^(\s*)console\.log\((.+)\);\s*// ${FIELDS.source}`);

/**
 * A block made checkable: each comment that gives an object's fields is kept, and the block
 * reports, as its last stdout line, the fields each such object really has (`{ line: keys }`).
 */
export function withShapeChecks(code: string): { code: string; shapes: Shape[] } {
  const shapes: Shape[] = [];
  const tail: string[] = [];
  const lines = code.split('\n').map((text, line) => {
    const logged = LOGGED.exec(text);
    if (logged) {
      shapes.push(shape(line, logged[3], logged[4]));
      return text.replace(`console.log(${logged[2]})`, `__shape(${line}, ${logged[2]})`);
    }
    const named = NAMED.exec(text);
    if (named) {
      shapes.push(shape(line, named[2], named[3]));
      tail.push(`__shape(${line}, ${named[1]});`);
    } else if (/\/\/.*\{/.test(text)) {
      // A comment that gives fields in another form would go unchecked, and the test still pass.
      throw new Error(`a comment's fields in a form not read: ${text.trim()}`);
    }
    return text;
  });
  const head = [
    'const __shapes = {};',
    // As JSON has them: a field left undefined (a job's `status`) is no field of the object.
    'const __shape = (line, value) => { __shapes[line] = Object.keys(JSON.parse(JSON.stringify(value))); };',
    "process.on('exit', () => process.stdout.write('\\n' + JSON.stringify(__shapes) + '\\n'));",
  ];
  return { code: [...head, ...lines, ...tail].join('\n'), shapes };
}

function shape(line: number, fields: string | undefined, more: string | undefined): Shape {
  return { line, keys: (fields ?? '').split(', '), open: more !== undefined };
}
