import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { projectRoot } from '../../src/paths.js';
import { commandFailure } from '../helpers/command-failure.js';
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
const operation: Promise<string> = cs.measure('job', () => 1).then((r) => r.footprint.operation);
export = { operation };
`,
  'named.mts': `import type { ${NAMED.join(', ')} } from 'carbonscope';
export type Named = [${NAMED.join(', ')}];
`,
  // A CommonJS file's types are package.json's \`require\` condition's (types/index.d.cts).
  'named.cts': `import type { ${NAMED.join(', ')} } from 'carbonscope';
export type Named = [${NAMED.join(', ')}];
`,
  // The API the READMEs show, as a TypeScript user writes it against node:http.
  'api.mts': `import { createServer } from 'node:http';
import { CarbonscopeInstrumentation, llmImpacts, loadCatalog, requestFootprint, setAttributes,
  setRoute, snapshot, start, stop, track } from 'carbonscope';
import type { OperationFootprint } from 'carbonscope';
const instrumentation = new CarbonscopeInstrumentation();
instrumentation.enable();
await start();
createServer((req, res) => {
  setRoute(req, '/users/:id');
  setAttributes(req, { 'app.tenant': String(req.headers['x-tenant'] ?? '') });
  res.on('finish', () => {
    const footprint: OperationFootprint | undefined = requestFootprint(res);
    if (footprint?.provisional) console.log(footprint.joules, footprint.grams);
  });
  res.end(String(track('render', () => 1)));
});
const out = llmImpacts(loadCatalog(), { provider: 'mistralai', model: 'mistral-large-latest',
  outputTokens: 250, requestLatencySeconds: 3.2 });
if (out.errors === null) console.log(out.energy.value, out.energy.unit === 'kWh', out.zone);
else console.log(out.errors[0]?.message);
console.log(snapshot()?.samples);
await stop();
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
declare const server: import('node:http').Server;
type Req = import('node:http').IncomingMessage & { params: Record<string, string> };
type Res = import('node:http').ServerResponse & { send(body: string): void };
declare const app: { get(path: string, handler: (req: Req, res: Res) => void): void };
declare const report: (id: string | undefined) => string;
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
    'readme-otel-settings.mts': blockWith(pkg, "exportTimeoutOverInterval(process.env, 'stops')"),
    'readme-shutdown.mts': blockWith(root, 'server.close();'),
    'readme-attributes.mts': blockWith(pkg, 'setAttributes(req, {'),
  };
  return Object.fromEntries(
    Object.entries(blocks).map(([name, code]) => [name, `${README_STUBS}${code}\nexport {};\n`]),
  );
}

/**
 * A consumer's tsconfig modes, each with the files it can compile (the folder is CommonJS). Three
 * check the libraries' declarations (skipLibCheck: false, as the README's note on it says):
 * nodenext; node16, where a CommonJS file's require() of an ES module is an error (TS1479) in
 * every TypeScript; and node10 with no `target`, TypeScript 5's ES5 (where a `#private` in a
 * declaration is an error, TS18028). That check is most of tsc's time (@types/node, zod), where
 * what sets the other modes apart is how they find carbonscope, which the consumer's files check.
 * verbatimModuleSyntax and isolatedModules where the files' syntax is their format's own.
 */
const STRICT_SYNTAX = { verbatimModuleSyntax: true, isolatedModules: true };
const MODES: Mode[] = [
  // esModuleInterop as tsc --init sets it (zod's declarations need it where they are checked).
  {
    module: 'commonjs',
    moduleResolution: 'node10',
    esModuleInterop: true,
    skipLibCheck: false,
    files: ['plain.ts', 'cjs.cts'],
  },
  {
    module: 'node16',
    moduleResolution: 'node16',
    skipLibCheck: false,
    // A Node project's lib (@tsconfig/node20's): no DOM, whose types @types/node's stand in for.
    lib: ['es2023'],
    ...STRICT_SYNTAX,
    files: ['esm.mts', 'cjs.cts', 'named.cts', 'api.mts'],
  },
  {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    skipLibCheck: false,
    files: [
      'esm.mts',
      'cjs.cts',
      'plain.ts',
      'named.mts',
      'named.cts',
      'api.mts',
      ...Object.keys(readmeFiles()),
    ],
  },
  {
    module: 'esnext',
    moduleResolution: 'bundler',
    // A bundler's own (TypeScript 5's default ES5 has no top-level await).
    target: 'es2022',
    ...STRICT_SYNTAX,
    files: ['esm.mts', 'plain.ts', 'api.mts'],
  },
  { module: 'preserve', moduleResolution: 'bundler', files: ['cjs.cts', 'plain.ts'] },
];

interface Mode {
  module: string;
  moduleResolution: string;
  files: string[];
  [option: string]: unknown;
}

/**
 * The oldest TypeScript the README names, in the modes where it differs: 5.4 checks the
 * libraries' declarations (zod's use NoInfer, new in 5.4), 5.0 only the consumer's files
 * (skipLibCheck on). The newest 5.x (5.9) runs every mode.
 */
const OLDEST = [
  { typescript: '5.4', modes: ['node16-node16'] },
  { typescript: '5.0', modes: ['node16-node16', 'esnext-bundler'], skipLibCheck: true },
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

/**
 * Run by node in the consumer's folder, with its TypeScript: the exported functions, classes and
 * constants of the packed index.d.ts that carry no doc comment (nothing for an editor's hover),
 * one a line. A `@deprecated` tag alone counts: an editor shows it.
 */
const UNDOCUMENTED = `const ts = require('typescript');
const index = require.resolve('carbonscope/package.json').replace(/package\\.json$/, 'dist/src/index.d.ts');
const options = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: ['node'], skipLibCheck: true, noEmit: true };
const program = ts.createProgram([index], options);
const checker = program.getTypeChecker();
const values = ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable;
for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(index)))) {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  if (!(target.flags & values)) continue;
  const said = ts.displayPartsToString(target.getDocumentationComment(checker)).trim();
  if (!said && target.getJsDocTags(checker).length === 0) console.log(symbol.name);
}
`;

/** TypeScript under `version`'s own folder name, beside the newest as `typescript`. */
const typescriptDir = (version: string) => `typescript-${version}`;

/** A mode's tsconfig, written into `work`; `overrides` for an older TypeScript's. */
function writeConfig(work: string, name: string, mode: Mode, overrides = {}): string {
  const { files, ...options } = mode;
  const compilerOptions = { skipLibCheck: true, ...COMMON, ...options, ...overrides };
  writeFileSync(join(work, name), JSON.stringify({ compilerOptions, files }));
  return name;
}

/** The major.minor of the TypeScript this repository builds with. */
const TYPESCRIPT_OWN = (
  JSON.parse(
    readFileSync(join(projectRoot, 'node_modules', 'typescript', 'package.json'), 'utf8'),
  ) as { version: string }
).version.replace(/\.\d+$/, '');

const modeName = (m: Mode) => `${m.module}-${m.moduleResolution}`;

describe('the packed library type-checks in a consumer, every moduleResolution', function () {
  // npm installs from its cache; tsc takes tens of seconds on a loaded machine.
  this.timeout(300_000);
  const work = tempDirUntilExit('carbonscope-types-');
  let tarball = '';
  // TypeScript 5.7+ turns on Node's compile cache (22.1+), kept in the temporary folder.
  const env = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1', NO_COLOR: '1' };
  const failures = (bin: string, args: string[]) => commandFailure(bin, args, { cwd: work, env });

  before(async () => {
    tarball = await packLibrary(work);
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // TypeScript 5.x: node10 is deprecated in 6 and gone in 7, and the projects still on it are
    // on 5. The two SDK packages the types name, as the README says for skipLibCheck: false.
    await npmInstallOrSay(
      work,
      [
        tarball,
        'typescript@5.9',
        ...OLDEST.map((o) => `${typescriptDir(o.typescript)}@npm:typescript@${o.typescript}`),
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

  // Are the Types Wrong: each entry of the exports map (`.`, `./register`) as node10, node16
  // from CommonJS and from ESM, and bundler resolve it: types found, of the format of the
  // JavaScript they describe (a `require` entry typed by an ESM .d.ts is 'Masquerading as ESM').
  it('@arethetypeswrong/cli finds no problem in any entry', async () => {
    const attw = join(projectRoot, 'node_modules', '.bin', 'attw');
    expect(await failures(attw, [tarball, '--format', 'table-flipped'])).to.equal('');
  });

  it('every exported function, class and constant has a doc comment', async () => {
    writeFileSync(join(work, 'undocumented.cjs'), UNDOCUMENTED);
    const { stdout } = await run(process.execPath, ['undocumented.cjs'], { cwd: work, env });
    expect(stdout.split('\n').filter(Boolean)).to.deep.equal([]);
  });

  // One tsc --build for all: it parses the libraries' declarations once, not once a mode.
  it(`TypeScript 5.9, every mode: ${MODES.map(modeName).join(', ')}`, async () => {
    const configs = MODES.map((m) => writeConfig(work, `tsconfig.${modeName(m)}.json`, m));
    const tsc = join(work, 'node_modules', '.bin', 'tsc');
    // --verbose names the project before its errors.
    expect(await failures(tsc, ['-b', '--verbose', ...configs])).to.equal('');
  });

  // The repository's own TypeScript (7, native): node10 and its ES5 are gone from it.
  const NEWEST = MODES.filter((m) => m.moduleResolution !== 'node10');
  it(`TypeScript ${TYPESCRIPT_OWN}: ${NEWEST.map(modeName).join(', ')}`, async () => {
    const tsc = join(projectRoot, 'node_modules', '.bin', 'tsc');
    let errors = '';
    for (const mode of NEWEST) {
      const config = writeConfig(work, `tsconfig.${modeName(mode)}.own.json`, mode);
      errors += await failures(tsc, ['-p', config]);
    }
    expect(errors).to.equal('');
  });

  for (const { typescript, modes, skipLibCheck } of OLDEST) {
    it(`TypeScript ${typescript}: ${modes.join(', ')}${skipLibCheck ? ' (skipLibCheck)' : ''}`, async () => {
      const tsc = join(work, 'node_modules', typescriptDir(typescript), 'bin', 'tsc');
      // noUncheckedSideEffectImports is 5.6's; before it, tsc -b takes no noEmit.
      const overrides = {
        noUncheckedSideEffectImports: undefined,
        ...(skipLibCheck ? { skipLibCheck } : {}),
      };
      let errors = '';
      for (const mode of MODES.filter((m) => modes.includes(modeName(m)))) {
        const config = writeConfig(
          work,
          `tsconfig.${modeName(mode)}.${typescript}.json`,
          mode,
          overrides,
        );
        errors += await failures(process.execPath, [tsc, '-p', config]);
      }
      expect(errors).to.equal('');
    });
  }
});
