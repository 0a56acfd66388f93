import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  blockWith,
  PACKAGE_README,
  ROOT_README,
  readmeBlocks,
} from '#library-tests/helpers/readme-blocks.js';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { npmInstallOrSay, packLibrary } from '../helpers/packed-library.js';

const run = promisify(execFile);

/**
 * The carbonscope types the exported functions' and classes' signatures name (found by API
 * Extractor's ae-forgotten-export on the packed declarations): each importable by name, so a user
 * can type what they pass (start()'s `select`, an EnergyTracker's options) and what they get back.
 */
const NAMED = [
  'AnnualAverage',
  'DropCount',
  'DropReason',
  'DroppedListener',
  'DroppedOperation',
  'EnergyMeterOptions',
  'EstimateOptions',
  'EstimateSettings',
  'GpuShareReader',
  'GridIntensityOptions',
  'HeldZone',
  'HostCpuReader',
  'IntensityServiceOptions',
  'NvidiaSmiOptions',
  'PowermetricsOptions',
  'RaplDomain',
  'RaplOptions',
  'SelectedSources',
  'SelectSourcesOptions',
  'SourceDevice',
  'StderrLoggerOptions',
  'TrackerOptions',
  'UpstreamErrorKind',
];

/**
 * Each documented import path, in the three ways a consumer's file can be written. The
 * expect-error line fails the check where carbonscope resolves to `any`, and strict's noImplicitAny
 * on `r` where a type deep in it does (with skipLibCheck, an import its declarations cannot
 * resolve is `any` without a word).
 */
const FILES: Record<string, string> = {
  'esm.mts': `import { CarbonscopeInstrumentation, EmissionsTracker, LocalHistograms, SCOPE, measure,
  start, stop, track, withCurrentGauges } from 'carbonscope';
import 'carbonscope/register';
// @ts-expect-error: not an export
import { notAnExport } from 'carbonscope';
export const all = [CarbonscopeInstrumentation, EmissionsTracker, LocalHistograms, SCOPE, measure,
  start, stop, track, withCurrentGauges, notAnExport];
export const operation: Promise<string> = measure('job', () => 1).then((r) => r.footprint.operation);
`,
  'cjs.cts': `import cs = require('carbonscope');
import 'carbonscope/register';
// @ts-expect-error: not an export
cs.notAnExport;
export const operation: Promise<string> = cs.measure('job', () => 1).then((r) => r.footprint.operation);
`,
  'named.mts': `import type { ${NAMED.join(', ')} } from 'carbonscope';
export type Named = [${NAMED.join(', ')}];
`,
  'plain.ts': `import { measure, stop } from 'carbonscope';
import 'carbonscope/register';
// @ts-expect-error: not an export
import { notAnExport } from 'carbonscope';
export const both = [measure, stop, notAnExport];
`,
};

/** What the READMEs' script blocks leave to the reader, typed as a reader's code would be. */
const README_STUBS = `declare const runJob: () => Promise<number[]>;
declare const resize: (image: string) => string;
declare const resizeAll: (images: string[]) => string[];
declare const image: string;
declare const images: string[];
declare const train: () => void;
`;

/**
 * The READMEs' blocks for scripts and jobs and for settings in code, as a TypeScript user copies
 * them: each a module of its own, checked under the strictest mode below, so a field or an
 * option renamed in the types fails here, not in a reader's editor.
 */
function readmeFiles(): Record<string, string> {
  const root = readmeBlocks(ROOT_README, 'Use it as a library');
  const pkg = readmeBlocks(PACKAGE_README);
  const blocks = {
    'readme-api.mts': blockWith(root, 'snapshot();'),
    'readme-jobs.mts': blockWith(pkg, "'training'"),
    'readme-settings.mts': blockWith(pkg, 'loadSettings(process.env)'),
  };
  return Object.fromEntries(
    Object.entries(blocks).map(([name, code]) => [name, `${README_STUBS}${code}\nexport {};\n`]),
  );
}

/**
 * A consumer's tsconfig modes, each with the files it can compile (the folder is CommonJS). Two
 * check the libraries' declarations (skipLibCheck: false, as the README's note on it says):
 * nodenext, and node10 with no `target`, TypeScript 5's ES5 (where a `#private` in a declaration
 * is an error, TS18028). That check is most of tsc's time (@types/node, zod), where what sets
 * the other modes apart is how they find carbonscope, which the consumer's files check.
 */
const MODES = [
  // esModuleInterop as tsc --init sets it (zod's declarations need it where they are checked).
  {
    module: 'commonjs',
    moduleResolution: 'node10',
    esModuleInterop: true,
    skipLibCheck: false,
    files: ['plain.ts', 'cjs.cts'],
  },
  { module: 'node16', moduleResolution: 'node16', files: ['esm.mts'] },
  {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    skipLibCheck: false,
    files: ['esm.mts', 'cjs.cts', 'plain.ts', 'named.mts', ...Object.keys(readmeFiles())],
  },
  { module: 'esnext', moduleResolution: 'bundler', files: ['esm.mts', 'plain.ts'] },
  { module: 'preserve', moduleResolution: 'bundler', files: ['cjs.cts', 'plain.ts'] },
];

/**
 * Without noUncheckedSideEffectImports, tsc says nothing where `import 'x'` finds no types. The
 * two strict flags strict leaves out, which a consumer's may hold the libraries' types to.
 */
const COMMON = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noEmit: true,
  types: ['node'],
  noUncheckedSideEffectImports: true,
};

describe('the packed library type-checks in a consumer, every moduleResolution', function () {
  // npm installs from its cache; tsc takes tens of seconds on a loaded machine.
  this.timeout(300_000);
  const work = tempDirUntilExit('carbonscope-types-');

  before(async () => {
    const tarball = await packLibrary(work);
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // TypeScript 5.x: node10 is deprecated in 6 and gone in 7, and the projects still on it are
    // on 5. The two SDK packages the types name, as the README says for skipLibCheck: false.
    await npmInstallOrSay(
      work,
      [
        tarball,
        'typescript@5.9',
        '@types/node@20',
        '@opentelemetry/api@1.9',
        '@opentelemetry/sdk-metrics@2',
        '@opentelemetry/resources@2',
      ],
      { timeoutMs: 180_000 },
    );
    const files = { ...FILES, ...readmeFiles() };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  // One tsc --build for all: it parses the libraries' declarations once, not once a mode.
  const names = MODES.map((m) => `${m.module}/${m.moduleResolution}`);
  it(`every mode: ${names.join(', ')}`, async () => {
    const configs = MODES.map(({ files, ...options }) => {
      const config = `tsconfig.${options.module}-${options.moduleResolution}.json`;
      const compilerOptions = { skipLibCheck: true, ...COMMON, ...options };
      writeFileSync(join(work, config), JSON.stringify({ compilerOptions, files }));
      return config;
    });
    const tsc = join(work, 'node_modules', '.bin', 'tsc');
    // TypeScript 5.7+ turns on Node's compile cache (22.1+), kept in the temporary folder.
    const env = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };
    // --verbose names the project before its errors.
    const errors = await run(tsc, ['-b', '--verbose', ...configs], { cwd: work, env }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(errors).to.equal('');
  });
});
