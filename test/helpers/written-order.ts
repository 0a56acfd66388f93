import { basename } from 'node:path';
import type { FileRoute, FolderLink } from './folder-imports.js';

// The README's Architecture section writes, for the library and for the app, one order the
// folders import in ("a folder imports only folders after it in `a` → `b` → …, or `x/`, `y/`,
// which import no folder") and then every link in full ("in full …: `a` → `b`, `c`; `d` and `e` →
// `f`."). These read the two lists back, and weigh the links the sources make against them.

/** What the README says of one source tree's folders. */
export interface WrittenOrder {
  /** The folders in the order they import: each only ones after it. */
  order: string[];
  /** The folders that import no folder. */
  leaves: string[];
  /** Every link, `from → to`. */
  links: string[];
}

const NAME = /`([a-z][a-z0-9-]*)\/?`/g;
const ORDER = /a folder imports only folders after it in (.+?), or (.+?), which import no folder/;
const FULL = /in full[^:]*: (.+?)\.(?: |$)/i;

function names(text: string): string[] {
  return [...text.matchAll(NAME)].map((m) => m[1]);
}

/** One tree's lists, read from its part of the section; undefined where one is missing. */
function readPart(part: string): WrittenOrder | undefined {
  const order = ORDER.exec(part);
  const full = FULL.exec(part);
  if (order === null || full === null) return undefined;
  const links = full[1].split(';').flatMap((entry) => {
    const [from, to] = entry.split('→');
    if (to === undefined) return [`(unread: ${entry.trim()})`];
    return names(from).flatMap((a) => names(to).map((b) => `${a} → ${b}`));
  });
  return { order: names(order[1].replaceAll('→', ' ')), leaves: names(order[2]), links };
}

/**
 * The library's lists and the app's from the README: the Architecture section, read with its
 * lines joined, split where the app's part begins ("In the app (`src/`)").
 */
export function writtenOrders(readme: string): { library?: WrittenOrder; app?: WrittenOrder } {
  const start = readme.indexOf('\n## Architecture\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end).replace(/\s+/g, ' ');
  const [library, app = ''] = section.split('In the app (`src/`)');
  return { library: readPart(library), app: readPart(app) };
}

/** How a link from folder `from` to folder `to` goes against the written order, if it does. */
function againstOrder(written: WrittenOrder, from: string, to: string): string | undefined {
  if (written.leaves.includes(from)) return `, and ${from}/ is written to import no folder`;
  const a = written.order.indexOf(from);
  const b = written.order.indexOf(to);
  if (!written.leaves.includes(to) && a !== -1 && b !== -1 && b <= a) {
    return ' goes against the written order';
  }
  return undefined;
}

/**
 * Where the sources and the written lists part: a folder neither in the order nor a leaf, a
 * name no folder has, a link against the order or from a leaf, a link the full list lacks, and
 * one it names that no import makes; and a folder reaching another through root files alone
 * (`through`) against the order or from a leaf, which the full list, of direct links, leaves out.
 */
export function againstWritten(
  written: WrittenOrder,
  folders: readonly string[],
  links: readonly FolderLink[],
  through: readonly FileRoute[] = [],
): string[] {
  const placed = [...written.order, ...written.leaves];
  const where = (use: FolderLink['use']) => `${use.from}:${use.line} '${use.specifier}'`;
  const made = new Set(links.map(({ from, to }) => `${from} → ${to}`));
  return [
    ...folders
      .filter((folder) => !placed.includes(folder))
      .map((folder) => `${folder}/ is in neither the order nor the folders that import none`),
    ...placed
      .filter((name) => !folders.includes(name))
      .map((name) => `${name} is written in the order, and no such folder is there`),
    ...links.flatMap(({ from, to, use }) => {
      const wrong = againstOrder(written, from, to);
      return wrong === undefined ? [] : [`${from} → ${to} (${where(use)})${wrong}`];
    }),
    ...through.flatMap(({ from, to, uses }) => {
      const wrong = againstOrder(written, from, to);
      if (wrong === undefined) return [];
      const files = uses.slice(1).map((use) => basename(use.from));
      return [
        `${from} → ${to} through ${files.join(', ')} (${uses.map(where).join(', ')})${wrong}`,
      ];
    }),
    ...links
      .filter(({ from, to }) => !written.links.includes(`${from} → ${to}`))
      .map(({ from, to, use }) => `${from} → ${to} (${where(use)}) is missing from the full list`),
    ...written.links
      .filter((link) => !made.has(link))
      .map((link) => `the full list has ${link}, which no import makes`),
  ];
}
