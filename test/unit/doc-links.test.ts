import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';
import { markdownFiles } from '../helpers/markdown-files.js';

interface Link {
  /** The file it points to, relative to the document; '' for the document itself. */
  path: string;
  /** The heading it points to, if it names one. */
  anchor?: string;
}

/**
 * A document's inline links that point into the repository (not a web address or mail), each
 * split into its file and its anchor; a title after the target is left out.
 */
function localLinks(markdown: string): Link[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => {
      const hash = target.indexOf('#');
      return hash < 0
        ? { path: target }
        : { path: target.slice(0, hash), anchor: target.slice(hash + 1) };
    });
}

/**
 * The anchors GitHub gives a document's headings: lowercased, punctuation dropped, spaces as
 * hyphens, a repeated one numbered. Headings inside code fences are not headings.
 */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** What is wrong with `link` from `file`, or undefined when it leads somewhere. */
function brokenBecause(file: string, link: Link): string | undefined {
  const target = link.path === '' ? file : join(dirname(file), link.path);
  if (!existsSync(join(projectRoot, target))) return 'no such file';
  if (link.anchor === undefined || !target.endsWith('.md')) return undefined;
  const anchors = headingAnchors(readFileSync(join(projectRoot, target), 'utf8'));
  return anchors.has(link.anchor) ? undefined : 'no such heading';
}

describe('links between the documents', () => {
  it('reads the links that point into the repository, and only those', () => {
    const text = [
      'See [the runs](test/bench/RUNS.md), [a section](#settings) and',
      '[an anchor elsewhere](../README.md#limits "title"), not [a site](https://example.org/x.md)',
      'nor [mail](mailto:someone@example.org).',
    ].join('\n');
    expect(localLinks(text)).to.deep.equal([
      { path: 'test/bench/RUNS.md' },
      { path: '', anchor: 'settings' },
      { path: '../README.md', anchor: 'limits' },
    ]);
  });

  it("names headings as GitHub's anchors do", () => {
    const text = [
      '# carbonscope',
      '## /predict: a classifier the project trains itself',
      '### Versions: tested and only pinned',
      '```sh',
      '# a comment, not a heading',
      '```',
      '## CodeCarbon side by side',
      '## CodeCarbon side by side',
    ].join('\n');
    expect([...headingAnchors(text)]).to.deep.equal([
      'carbonscope',
      'predict-a-classifier-the-project-trains-itself',
      'versions-tested-and-only-pinned',
      'codecarbon-side-by-side',
      'codecarbon-side-by-side-1',
    ]);
  });

  // Documents move (the README's research logs went to test/bench) and headings get renamed: a
  // link left behind would send a reader nowhere.
  it('every relative link of every document leads to a file, and to a heading it names', () => {
    const files = markdownFiles();
    expect(files).to.include.members(['README.md', 'test/bench/RUNS.md']);
    const broken = files.flatMap((file) =>
      localLinks(readFileSync(join(projectRoot, file), 'utf8')).flatMap((link) => {
        const why = brokenBecause(file, link);
        return why ? [`${file} -> ${link.path}#${link.anchor ?? ''}: ${why}`] : [];
      }),
    );
    expect(broken).to.deep.equal([]);
  });
});
