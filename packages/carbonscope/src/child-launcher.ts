import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { packageNameAt } from './paths.js';

/**
 * The Node programs whose own process only starts the application in a child, by their file's
 * path inside the package that ships it (as its `bin` names it), with those packages. Package
 * managers: npm's npm and npx; yarn 1's, and yarn 2+'s as npm installs it (@yarnpkg/cli-dist);
 * pnpm's, .js before pnpm 6, .cjs to 10, .mjs from 11; corepack's shims, which run the manager
 * they fetch in their own process. Launchers, each seen holding the port its child then could
 * not take: nodemon; tsx (dist/cli.js before 4); ts-node-esm (its child, dist/child/, is the
 * application); ts-node-dev (its child, lib/wrap.js, is the application); node-dev; pm2's
 * commands (its daemon, a cluster's primary, is pm2.ts's); concurrently (dist/bin/concurrently.js
 * before 10); npm-run-all and its fork npm-run-all2.
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
  'bin/nodemon.js': ['nodemon'],
  'dist/cli.mjs': ['tsx'],
  'dist/cli.js': ['tsx'],
  'dist/bin-esm.js': ['ts-node'],
  'lib/bin.js': ['ts-node-dev'],
  'bin/node-dev': ['node-dev'],
  'bin/pm2': ['pm2'],
  'bin/pm2-dev': ['pm2'],
  'bin/pm2-docker': ['pm2'],
  'bin/pm2-runtime': ['pm2'],
  'dist/bin/index.js': ['concurrently'],
  'dist/bin/concurrently.js': ['concurrently'],
  'bin/npm-run-all/index.js': ['npm-run-all', 'npm-run-all2'],
  'bin/run-s/index.js': ['npm-run-all', 'npm-run-all2'],
  'bin/run-p/index.js': ['npm-run-all', 'npm-run-all2'],
};

/**
 * ts-node's programs (ts-node, ts-node-transpile-only, ts-node-script, ts-node-cwd) run the
 * script in their own process, but start it in a child (their dist/child/ entry) when `--esm`
 * comes before the script: only then is their process left alone. Set in tsconfig.json instead,
 * that is not known here: ts-node's process is then measured, and holds the Prometheus port.
 */
const WITH_ESM: Readonly<Record<string, readonly string[]>> = {
  'dist/bin.js': ['ts-node'],
  'dist/bin-transpile.js': ['ts-node'],
  'dist/bin-script.js': ['ts-node'],
  'dist/bin-cwd.js': ['ts-node'],
};

/** ts-node's options that take the next argument as their value (arg's String types, 10.9). */
const TS_NODE_VALUED = new Set([
  '--eval',
  '--require',
  '--cwd',
  '--dir',
  '--compiler',
  '--compilerOptions',
  '--compiler-options',
  '--project',
  '--ignoreDiagnostics',
  '--ignore-diagnostics',
  '--ignore',
  '--transpiler',
  '--scopeDir',
  '--scope-dir',
  '--experimentalSpecifierResolution',
  '--experimental-specifier-resolution',
]);
const TS_NODE_VALUED_SHORT = new Set(['e', 'r', 'I', 'P', 'C', 'D', 'O']);

/**
 * The names `process.argv[1]` has where it is a link to one of PROGRAMS, as npm, corepack or a
 * .bin folder makes it (pn and pnx are pnpm 11's), or a yarn 2+ release that a project checks in
 * (`.yarn/releases/yarn-4.5.0.cjs`). A file of PROGRAMS named by its own path is one too; no
 * other main module is read from disk.
 */
const CANDIDATE = new RegExp(
  '^(?:(?:npm|npx|npm-cli|npx-cli|yarn|yarnpkg|pnpm|pnpx|corepack)(?:\\.[cm]?js)?|pn|pnx|' +
    'yarn-.+\\.cjs|nodemon|tsx|ts-node(?:-esm|-transpile-only|-script|-cwd|-dev)?|tsnd|node-dev|' +
    'pm2|pm2-dev|pm2-docker|pm2-runtime|concurrently|conc|npm-run-all2?|run-[sp])$',
);

/** The entry of `table` that `file` ends with, with the package folder that holds it. */
function programAt(
  file: string,
  table: Readonly<Record<string, readonly string[]>>,
): { packages: readonly string[]; root: string } | undefined {
  const segments = file.split(sep);
  for (const depth of [2, 3]) {
    const packages = table[segments.slice(-depth).join('/')];
    if (packages && segments.length > depth) {
      return { packages, root: segments.slice(0, -depth).join(sep) };
    }
  }
  return undefined;
}

/** Whether `file` (a real path) is `table`'s program inside a package whose name lists it. */
function shippedAs(file: string, table: Readonly<Record<string, readonly string[]>>): boolean {
  const program = programAt(file, table);
  if (!program) return false;
  const name = packageNameAt(program.root);
  return name !== undefined && program.packages.includes(name);
}

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
 * Whether ts-node's options, before the script's name, include `--esm`, read as its arg 4 reads
 * them: an option's value is not the script, `--esm=false` is --esm too, `-Tr x` is -T -r x.
 */
function esmBeforeScript(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--' || arg.length < 2 || !arg.startsWith('-')) return false;
    const long = arg.startsWith('--');
    if (long && arg.split('=', 1)[0] === '--esm') return true;
    if (long ? TS_NODE_VALUED.has(arg) : TS_NODE_VALUED_SHORT.has(arg.slice(-1))) i++;
  }
  return false;
}

/**
 * Whether `main` (process.argv[1], known before any --import runs) is a program whose own
 * process only starts the application in a child, which NODE_OPTIONS reaches after it: a package
 * manager (`npm start`), a watcher or runner (nodemon, tsx, ts-node-esm), a process manager
 * (pm2). Told by the file's real path in its package, whose package.json names it: an
 * application's own `npm.js` or `bin/nodemon.js` is not one. `args` (process.argv after `main`)
 * tell ts-node's `--esm`.
 */
export function startsChildLauncher(
  main: string | undefined = process.argv[1],
  args: readonly string[] = process.argv.slice(2),
): boolean {
  if (!main) return false;
  const named =
    CANDIDATE.test(basename(main)) ||
    programAt(main, PROGRAMS) !== undefined ||
    programAt(main, WITH_ESM) !== undefined;
  if (!named) return false;
  let file: string;
  try {
    file = realpathSync(main);
  } catch {
    return false;
  }
  if (shippedAs(file, PROGRAMS)) return true;
  if (shippedAs(file, WITH_ESM)) return esmBeforeScript(args);
  return isYarnFile(file);
}
