import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';

/** Folders that hold no document of the project's own: installs, builds, run outputs. */
const SKIPPED = new Set(['node_modules', 'dist', '.git', 'bench-results', 'test-artifacts']);

/** Every Markdown file of the project, as paths relative to its root. */
function markdownFiles(dir = projectRoot): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [relative(projectRoot, path)] : [];
  });
}

/**
 * The targets of a document's inline links that point into the repository: not a web address,
 * not an anchor of the same page. A target's own anchor and title are left out.
 */
function localLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1].split('#')[0])
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('links between the documents', () => {
  it('reads the links that point into the repository, and only those', () => {
    const text = [
      'See [the runs](test/bench/RUNS.md), [a section](#settings) and',
      '[an anchor elsewhere](../README.md#limits "title"), not [a site](https://example.org/x.md)',
      'nor [mail](mailto:someone@example.org).',
    ].join('\n');
    expect(localLinks(text)).to.deep.equal(['test/bench/RUNS.md', '../README.md']);
  });

  // Documents move (the README's research logs went to test/bench): a link left behind would
  // send a reader nowhere.
  it('every relative link of every document names a file or folder that exists', () => {
    const files = markdownFiles();
    expect(files).to.include.members(['README.md', 'test/bench/RUNS.md']);
    const broken = files.flatMap((file) =>
      localLinks(readFileSync(join(projectRoot, file), 'utf8'))
        .filter((target) => !existsSync(join(projectRoot, dirname(file), target)))
        .map((target) => `${file} -> ${target}`),
    );
    expect(broken).to.deep.equal([]);
  });
});
