// The types of `require('carbonscope')`, a CommonJS file's (package.json's `require` condition):
// Node 20.19 and 22.12 on give it the ES module's own exports (index-require.cjs or, where Node
// knows `module-sync`, index.js itself), which TypeScript before 5.8 says no require() can load.
// Without this file a CommonJS consumer got the ESM declarations: TS1471 under node16.
// @ts-ignore: TS1479 before TypeScript 5.8 (and under module node16), where skipLibCheck is off.
export * from '../dist/src/index.js';
