#!/usr/bin/env node
import { markOwnCli } from '../own-cli.js';
import { printable } from '../printable.js';
import { drainedOrStopped } from './drained.js';
import { type Ending, endProcess } from './ending.js';
import { loadModule } from './load-module.js';
import { watchStdout } from './output.js';
import { STOP_SIGNALS, takeStopSignals } from './stop-signals.js';

markOwnCli();

// Before any module of a command loads: the usage's and the failures' load the settings, about
// 0.1 s, during which a Ctrl-C to `monitor` ended it by Node's default, with nothing printed.
// Only monitor measures from its start: the others lose nothing to Node's default before they
// answer. `run` has measured nothing until its command starts, and from then on passes each
// stop signal on to it (run.ts); `impacts` computes from local data in a fraction of a
// second. Either ends by the signal then, status 128 + N (SIGQUIT 131, SIGUSR2 140).
const monitorSignals = process.argv[2] === 'monitor' ? takeStopSignals(STOP_SIGNALS) : undefined;

async function main(argv: string[]): Promise<number | Ending> {
  const [command, ...rest] = argv;
  try {
    const { commandHelp, MAIN_HELP, NO_COMMAND, UsageError, unknownCommand } =
      await loadModule<typeof import('./args.js')>('./args.js');
    switch (command) {
      // Each command loads only its own modules: `impacts` needs none of the meter, OTel SDK and
      // grid modules that `run` and `monitor` load (about half the start-up CPU time).
      case 'run':
        return await (await loadModule<typeof import('./run.js')>('./run.js')).runCommand(rest);
      case 'monitor':
        return await (
          await loadModule<typeof import('./monitor.js')>('./monitor.js')
        ).monitorCommand(rest, process.env, monitorSignals);
      case 'impacts':
        return await (
          await loadModule<typeof import('./impacts.js')>('./impacts.js')
        ).impactsCommand(rest);
      case '--version':
      case '-V':
        process.stdout.write(
          `${(await loadModule<typeof import('../version.js')>('../version.js')).VERSION}\n`,
        );
        return 0;
      case undefined:
        // A mistake, not a request for help: its usage on stderr, so that a pipe gets none.
        throw new UsageError(NO_COMMAND);
      case '-h':
      case '--help':
        process.stdout.write(MAIN_HELP);
        return 0;
      case 'help':
        // `carbonscope help run`, as git and npm take it.
        process.stdout.write(rest[0] === undefined ? MAIN_HELP : commandHelp(rest[0]));
        return 0;
      default:
        throw new UsageError(unknownCommand(command, rest));
    }
  } catch (err) {
    const { failureOf } = await loadModule<typeof import('./failure.js')>('./failure.js');
    const failure = failureOf(err, command, rest, process.env);
    process.stderr.write(failure.text);
    return failure.code;
  }
}

const stdoutFailure = watchStdout();
const result = await main(process.argv.slice(2));
let ending = typeof result === 'number' ? { code: result } : result;
// Leave with the command's status once stdout and stderr have drained (a pipe may be slow) or
// a stop signal came while they had not, without waiting on anything still pending: an exporter
// still retrying a collector that never answered would hold the exit for its own timeouts.
process.exitCode = ending.code;
void drainedOrStopped(process.stdout).then(() => {
  // A failed write calls back before its 'error' event is emitted: the event comes first here.
  setImmediate(() => {
    const failure = stdoutFailure();
    if (failure) {
      process.stderr.write(`carbonscope: ${printable(failure)}\n`);
      // `run` keeps its command's status, as where its CSV cannot be written.
      if (process.argv[2] !== 'run' && ending.code === 0) ending = { code: 1 };
      process.exitCode = ending.code;
    }
    void drainedOrStopped(process.stderr).then(() => endProcess(ending));
  });
});
