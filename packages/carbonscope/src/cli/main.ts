#!/usr/bin/env node
import { MissingSdkError } from '../otel/optional-sdk.js';
import { SettingsError } from '../settings.js';
import { IMPACTS_HELP, MAIN_HELP, MONITOR_HELP, RUN_HELP, UsageError } from './args.js';
import { asksVerbose, unexpectedErrorText } from './failure.js';

/** Exit status of a usage error (bad option, missing command), as most Unix tools use. */
export const USAGE_EXIT = 2;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const helps = new Map([
    ['run', RUN_HELP],
    ['monitor', MONITOR_HELP],
    ['impacts', IMPACTS_HELP],
  ]);
  const help = helps.get(command ?? '') ?? MAIN_HELP;
  try {
    switch (command) {
      // Each command loads only its own modules: `impacts` needs none of the meter, OTel SDK and
      // grid modules that `run` and `monitor` load (about half the start-up CPU time).
      case 'run':
        return await (await import('./run.js')).runCommand(rest);
      case 'monitor':
        return await (await import('./monitor.js')).monitorCommand(rest);
      case 'impacts':
        return await (await import('./impacts.js')).impactsCommand(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return command === undefined ? USAGE_EXIT : 0;
      default:
        throw new UsageError(`unknown command "${command}" (expected run, monitor or impacts)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`carbonscope: ${err.message}\n\n${help}`);
      return USAGE_EXIT;
    }
    if (err instanceof SettingsError) {
      process.stderr.write(`carbonscope: bad setting ${err.message}\n`);
      return USAGE_EXIT;
    }
    if (err instanceof MissingSdkError) {
      process.stderr.write(`carbonscope: ${err.message}\n`);
      return USAGE_EXIT;
    }
    process.stderr.write(unexpectedErrorText(err, asksVerbose(command, rest)));
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// Leave with the command's status once stdout and stderr have drained (a pipe may be slow),
// without waiting on anything still pending: an exporter still retrying a collector that never
// answered would hold the exit for its own timeouts.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
