'use strict';
// Mocha's spec output, then one closing line CI reads: "tests: N passed, M failed". Where the
// run has a temporary folder of its own, the line waits for the process to exit (the suites'
// helpers remove their folders then) and counts anything left in it as one more failure.
const { writeSync } = require('node:fs');
const Mocha = require('mocha');
const { guarding, leftoverLine } = require('./temp-leftovers.cjs');

function summary({ passes = 0, failures = 0, pending = 0 }) {
  const skipped = pending ? `, ${pending} skipped` : '';
  return `tests: ${passes} passed, ${failures} failed${skipped}\n`;
}

/** At exit, after every exit handler the suites registered while they ran. */
function summariseAtExit(stats) {
  process.once('exit', () => {
    const line = leftoverLine();
    if (line === undefined) {
      writeSync(1, summary(stats));
      return;
    }
    writeSync(1, `${line}\n`);
    writeSync(1, summary({ ...stats, failures: (stats.failures ?? 0) + 1 }));
    if (!process.exitCode) process.exitCode = 1;
  });
}

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const stats = runner.stats ?? {};
      if (guarding()) summariseAtExit(stats);
      else process.stdout.write(summary(stats));
    });
  }
}

module.exports = SummaryReporter;
