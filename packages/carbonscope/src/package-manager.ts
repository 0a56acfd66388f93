import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { packageNameAt } from './paths.js';

/**
 * The package managers' Node programs, by their file's last two path segments (as each package's
 * `bin` names it), with the packages that ship that file: npm's npm and npx; yarn 1's, and yarn
 * 2+'s as npm installs it (@yarnpkg/cli-dist); pnpm's, .js before pnpm 6, .cjs to 10, .mjs from
 * 11; corepack's shims, which run the manager they fetch in their own process.
 */
const PROGRAMS: Readonly<Record<string, readonly string[]>> = {
  'bin/npm-cli.js': ['npm'],
  'bin/npx-cli.js': ['npm'],
  'bin/yarn.js': ['yarn', '@yarnpkg/cli-dist'],
  'bin/pnpm.js': ['pnpm'],
  'bin/pnpx.js': ['pnpm'],
  'bin/pnpm.cjs': ['pnpm'],
  'bin/pnpx.cjs': ['pnpm'],
  'bin/pnpm.mjs': ['pnpm'],
  'bin/pnpx.mjs': ['pnpm'],
  'dist/corepack.js': ['corepack'],
  'dist/npm.js': ['corepack'],
  'dist/npx.js': ['corepack'],
  'dist/pnpm.js': ['corepack'],
  'dist/pnpx.js': ['corepack'],
  'dist/yarn.js': ['corepack'],
  'dist/yarnpkg.js': ['corepack'],
};

/**
 * The names `process.argv[1]` has where it is one of PROGRAMS: the file's own, or the link npm,
 * corepack or a .bin folder makes to it (pn and pnx are pnpm 11's); a yarn 2+ release that a
 * project checks in (`.yarn/releases/yarn-4.5.0.cjs`). Anything else is not read from disk.
 */
const CANDIDATE =
  /^(?:(?:npm|npx|npm-cli|npx-cli|yarn|yarnpkg|pnpm|pnpx|corepack)(?:\.[cm]?js)?|pn|pnx|yarn-.+\.cjs)$/;

/** yarn 2+ as a single file: a project's checked-in release, or corepack's download of one. */
function isYarnFile(file: string): boolean {
  const dir = dirname(file);
  if (/^yarn-.+\.cjs$/.test(basename(file))) {
    return basename(dir) === 'releases' && basename(dirname(dir)) === '.yarn';
  }
  if (basename(file) !== 'yarn.js') return false;
  try {
    // corepack's record of what it installed in that folder.
    const record = JSON.parse(readFileSync(join(dir, '.corepack'), 'utf8')) as {
      locator?: { name?: unknown } | null;
    } | null;
    return record?.locator?.name === 'yarn';
  } catch {
    return false;
  }
}

/**
 * Whether `main` (process.argv[1], known before any --import runs) is a package manager's own
 * program: npm, npx, yarn, pnpm or corepack, whose processes NODE_OPTIONS reaches before the
 * application's (`npm start`). Told by the file's real path in its package, whose package.json
 * names it: an application's own `npm.js` or `bin/yarn.js` is not one.
 */
export function startsPackageManager(main: string | undefined = process.argv[1]): boolean {
  if (!main || !CANDIDATE.test(basename(main))) return false;
  let file: string;
  try {
    file = realpathSync(main);
  } catch {
    return false;
  }
  const packages = PROGRAMS[`${basename(dirname(file))}/${basename(file)}`];
  if (packages) {
    const name = packageNameAt(dirname(dirname(file)));
    if (name !== undefined && packages.includes(name)) return true;
  }
  return isYarnFile(file);
}
