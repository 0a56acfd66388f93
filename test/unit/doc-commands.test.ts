import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { markdownFiles } from '../helpers/markdown-files.js';

const SHELLS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

/** The command lines of a document's shell blocks (```sh and its kin), comments left out. */
function shellLines(markdown: string): string[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)]
    .filter((block) => SHELLS.has(block[1] ?? ''))
    .flatMap((block) => (block[2] ?? '').split('\n'))
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

/**
 * The words of `line` that a shell would expand as a glob: a `?`, `*` or `[` outside quotes.
 * zsh (macOS's shell since 10.15) stops at one that matches no file ("no matches found"),
 * so `curl localhost:8001/carbon_intensity?zone=FR` runs nothing there.
 */
function unquotedGlobs(line: string): string[] {
  const bare = line
    .replace(/'[^']*'/g, "''")
    .replace(/"[^"]*"/g, '""')
    .replace(/\s#.*$/, '');
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
    ].join('\n');
    expect(shellLines(text).flatMap(unquotedGlobs)).to.deep.equal([
      'localhost:8001/carbon_intensity?zone=FR',
      'dist/*.js',
    ]);
  });

  // A reader pastes these as they are, in whatever shell they have: a URL with a query must be
  // quoted, or zsh refuses the whole line before curl runs.
  it('quote every URL with a query string, so zsh runs them as bash does', () => {
    const unquoted = markdownFiles().flatMap((file) =>
      shellLines(readFileSync(join(projectRoot, file), 'utf8'))
        .filter((line) => unquotedGlobs(line).some((word) => /:\/\/|localhost|\?\w+=/.test(word)))
        .map((line) => `${file}: ${line.trim()}`),
    );
    expect(unquoted).to.deep.equal([]);
  });
});
