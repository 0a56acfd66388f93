import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { npmInstallOrSay, packLibrary } from '../helpers/packed-library.js';

const run = promisify(execFile);

/**
 * Each documented import path, in the three ways a consumer's file can be written. The
 * expect-error line fails the check where carbonscope resolves to `any` instead of its types.
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
  'plain.ts': `import { measure, stop } from 'carbonscope';
import 'carbonscope/register';
// @ts-expect-error: not an export
import { notAnExport } from 'carbonscope';
export const both = [measure, stop, notAnExport];
`,
};

/** A consumer's tsconfig modes, each with the files it can compile (the folder is CommonJS). */
const MODES = [
  // zod's own types (which carbonscope's name) need esModuleInterop there, as tsc --init sets.
  {
    module: 'commonjs',
    moduleResolution: 'node10',
    esModuleInterop: true,
    files: ['plain.ts', 'cjs.cts'],
  },
  { module: 'node16', moduleResolution: 'node16', files: ['esm.mts'] },
  { module: 'nodenext', moduleResolution: 'nodenext', files: ['esm.mts', 'cjs.cts', 'plain.ts'] },
  { module: 'esnext', moduleResolution: 'bundler', files: ['esm.mts', 'plain.ts'] },
  { module: 'preserve', moduleResolution: 'bundler', files: ['cjs.cts', 'plain.ts'] },
];

describe('the packed library type-checks in a consumer, every moduleResolution', function () {
  // npm installs from its cache; each tsc run takes seconds on a loaded machine.
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
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(work, name), text);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const mode of MODES) {
    it(`module ${mode.module}, moduleResolution ${mode.moduleResolution}: ${mode.files.join(', ')}`, async () => {
      const config = `tsconfig.${mode.module}-${mode.moduleResolution}.json`;
      const { files, ...options } = mode;
      const compilerOptions = { ...options, strict: true, noEmit: true, types: ['node'] };
      writeFileSync(join(work, config), JSON.stringify({ compilerOptions, files }));
      const tsc = join(work, 'node_modules', '.bin', 'tsc');
      // TypeScript 5.7+ turns on Node's compile cache (22.1+), kept in the temporary folder.
      const env = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };
      const errors = await run(tsc, ['-p', config], { cwd: work, env }).then(
        () => '',
        (err: { stdout?: string }) => err.stdout ?? String(err),
      );
      expect(errors).to.equal('');
    });
  }
});
