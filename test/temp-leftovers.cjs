'use strict';
// What the suites leave in the temporary folder. `npm test` runs them with TMPDIR set to a folder
// made for that run (tools/fresh-tmpdir.sh, which names it in CARBONSCOPE_SUITES_TMPDIR), so
// whatever is in it once the run ends was left by a suite, or by a tool a suite ran, and never
// removed: the summary reporter then counts one more failure and names each leftover.
// As a root hook plugin (.mocharc.json's require) it notes which spec file each entry first
// appeared with, so that the failure says where to look.
const { readdirSync, realpathSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { relative } = require('node:path');

/** The run's own temporary folder, or undefined where no one made one for this run. */
function guardedDir() {
  const made = process.env.CARBONSCOPE_SUITES_TMPDIR;
  if (!made) return undefined;
  try {
    return realpathSync(made) === realpathSync(tmpdir()) ? made : undefined;
  } catch {
    return undefined;
  }
}

const dir = guardedDir();
/** Entry name -> where it first appeared. */
const firstSeen = new Map();
let previousFile;

/**
 * The grid's host share (`carbonscope-grid-<uid>`): kept on purpose, so that the next process on
 * the key finds the last value; a run with an Electricity Maps key leaves it as a user's would.
 */
const KEPT = /^carbonscope-grid-[^/]+$/;

function entries() {
  try {
    return readdirSync(dir).filter((name) => !KEPT.test(name));
  } catch {
    return [];
  }
}

function note(where) {
  for (const name of entries()) if (!firstSeen.has(name)) firstSeen.set(name, where);
}

const specFile = (test) => (test?.file ? relative(process.cwd(), test.file) : 'an unknown file');

/** Before a test: an entry new here came from the hooks between the last test and this one. */
function beforeEachTest() {
  const file = specFile(this.currentTest);
  if (previousFile === undefined) note('loading the spec files, or the first hooks');
  else note(previousFile === file ? file : `${previousFile} or ${file} (hooks)`);
  previousFile = file;
}

function afterEachTest() {
  note(specFile(this.currentTest));
}

/** One line naming each leftover and where it appeared; undefined when nothing is left. */
function leftoverLine() {
  if (!dir) return undefined;
  const left = entries().sort();
  if (left.length === 0) return undefined;
  const named = left.map((name) => `${name} (${firstSeen.get(name) ?? 'after the last test'})`);
  return `leftover temp files: ${named.join(', ')}`;
}

module.exports = {
  guarding: () => dir !== undefined,
  leftoverLine,
  mochaHooks: dir ? { beforeEach: beforeEachTest, afterEach: afterEachTest } : {},
};
