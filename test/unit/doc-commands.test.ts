import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { markdownFiles } from '../helpers/markdown-files.js';

const SHELLS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

/**
 * The code of a document's shell blocks (```sh and its kin, also with an info string after the
 * language, ~~~ fences, or indented in a list), read line by line as CommonMark pairs fences: a
 * block closes only on a bare fence of its own character at least as long as the one it opened.
 */
function shellBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let open: { fence: string; shell: boolean; lines: string[] } | undefined;
  for (const line of markdown.split(/\r?\n/)) {
    const fence = /^\s*(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (!open) {
      if (fence) open = { fence: fence[1], shell: SHELLS.has(fence[2]), lines: [] };
    } else if (fence?.[1].startsWith(open.fence) && line.trim() === fence[1]) {
      if (open.shell) blocks.push(open.lines.join('\n'));
      open = undefined;
    } else {
      open.lines.push(line);
    }
  }
  return blocks;
}

/**
 * What a shell reads as text and not as a pattern, taken in one pass left to right so that each
 * hides the others: a quoted string (over lines too), an escaped character (a continuation's
 * newline as well) and a comment (a `#` that starts a word).
 */
const LITERAL = /'[^']*'|"(?:\\[\s\S]|[^"\\])*"|\\[\s\S]|(?<!\S)#[^\n]*/g;

/**
 * The words of shell `code` that a shell would expand as a glob: a `?`, `*` or `[` outside quotes.
 * zsh (macOS's shell since 10.15) stops at one that matches no file ("no matches found"),
 * so `curl localhost:8001/carbon_intensity?zone=FR` runs nothing there. A heredoc's body is read
 * as commands: a URL in one fails the test, and so would be seen, not missed.
 */
function unquotedGlobs(code: string): string[] {
  const bare = code.replace(LITERAL, (text) => (text.startsWith('#') ? '' : "''"));
  return bare.split(/\s+/).filter((word) => /[?*[]/.test(word));
}

describe('shell commands in the documents', () => {
  it('finds the words a shell would glob, and only those', () => {
    const text = [
      '```sh',
      'curl -s localhost:8001/carbon_intensity?zone=FR',
      "curl -s 'localhost:8001/carbon_intensity?zone=FR' -d '{\"a\":[1]}'",
      'ls dist/*.js   # a glob meant as one',
      '# curl localhost?x=1 in a comment',
      '```',
      '```promql',
      'rate(x[1m])',
      '```',
      // An info string after the language once paired this block's closing fence with the
      // next opening one, and every shell block after it went unread.
      '```js title="a.js"',
      'fetch(`http://x?a=1`)',
      '```',
      '```bash',
      "# don't: an apostrophe in a comment is no quote",
      'echo "it\'s" http://x/a?b=1 \\',
      "  'http://x/c?d=1' http://x/e\\?f=1 -d '{\"a\":",
      "  [1]}'",
      '```',
    ].join('\n');
    expect(shellBlocks(text).flatMap(unquotedGlobs)).to.deep.equal([
      'localhost:8001/carbon_intensity?zone=FR',
      'dist/*.js',
      'http://x/a?b=1',
    ]);
  });

  // A reader pastes these as they are, in whatever shell they have: a URL with a query must be
  // quoted, or zsh refuses the whole line before curl runs.
  it('quote every URL with a query string, so zsh runs them as bash does', () => {
    const unquoted = markdownFiles().flatMap((file) =>
      shellBlocks(readFileSync(join(projectRoot, file), 'utf8'))
        .flatMap(unquotedGlobs)
        .filter((word) => /:\/\/|localhost|\?\w+=/.test(word))
        .map((word) => `${file}: ${word}`),
    );
    expect(unquoted).to.deep.equal([]);
  });
});
