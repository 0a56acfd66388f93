import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/paths.js';

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function manifest(...path: string[]): Manifest {
  return JSON.parse(readFileSync(join(projectRoot, ...path, 'package.json'), 'utf8')) as Manifest;
}

const root = manifest();
const library = manifest('packages', 'carbonscope');
const names = (deps: Record<string, string> | undefined) => Object.keys(deps ?? {});

/** The README section that gives each runtime dependency its reason, up to the next section. */
function section(): string {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Why each runtime dependency is here\n');
  expect(start, 'the README section').to.be.greaterThan(-1);
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
}

const codeSpans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/**
 * The packages a table's first column names. A span like `-http` after
 * `@opentelemetry/exporter-metrics-otlp-proto` is the same name with its last part swapped.
 */
function tablePackages(table: string): string[][] {
  return table
    .split('\n')
    .filter((line) => line.startsWith('| ') && !/^\| (-|package )/.test(line))
    .map((line) => {
      const named: string[] = [];
      for (const span of codeSpans(line.split('|')[1])) {
        const previous = named.at(-1);
        const suffix = span.startsWith('-') && previous;
        named.push(suffix ? previous.replace(/-[^-/]+$/, span) : span);
      }
      return named;
    });
}

function parts() {
  const text = section();
  const app = text.indexOf('**The app**');
  const dev = text.indexOf('Development only:');
  return {
    library: tablePackages(text.slice(0, app)).flat(),
    appRows: text.slice(app, dev),
    app: tablePackages(text.slice(app, dev)).flat(),
    dev: codeSpans(text.slice(dev)).filter((span) => !span.includes(' ')),
  };
}

describe('README: why each runtime dependency is here', () => {
  it("names every dependency and peer of the library in the library's table, and nothing else", () => {
    const declared = [...names(library.dependencies), ...names(library.peerDependencies)];
    const { library: named } = parts();
    expect([...new Set(named)].sort()).to.deep.equal([...new Set(declared)].sort());
  });

  it("names every dependency of the app in one of the tables, and the app's table no other", () => {
    const { library: inLibrary, app } = parts();
    const declared = names(root.dependencies);
    for (const name of declared) expect([...inLibrary, ...app], name).to.include(name);
    for (const name of app) expect(declared, `${name} (named in the app's table)`).to.include(name);
  });

  it('names the packages pinned to one version, at that version, in the pins row', () => {
    const pins =
      parts()
        .appRows.split('\n')
        .find((line) => line.startsWith('| (pins)')) ?? '';
    const spans = codeSpans(pins);
    const exact = Object.entries(root.dependencies ?? {}).filter(
      ([name, range]) => /^\d/.test(range) && name !== 'carbonscope',
    );
    for (const [name, version] of exact) {
      const short = name.replace('@opentelemetry/', '');
      const named = spans.some(
        (span) => span === short || (span.endsWith('*') && short.startsWith(span.slice(0, -1))),
      );
      expect(named, `${name} in the pins row`).to.equal(true);
      expect(pins, `${name}'s version in the pins row`).to.include(version);
    }
  });

  it('names every development dependency in the development-only list, and nothing else', () => {
    const { dev } = parts();
    const declared = names(root.devDependencies);
    const listed = (name: string) =>
      dev.includes(name) ||
      dev.some((span) => span.endsWith('/*') && name.startsWith(span.slice(0, -1)));
    for (const name of declared) expect(listed(name), `${name} in the list`).to.equal(true);
    for (const span of dev) {
      const known = declared.includes(span) || span.endsWith('/*');
      expect(known, `${span} (listed as a development dependency)`).to.equal(true);
    }
  });
});
