#!/usr/bin/env node
import { ConfigError } from '../config.js';
import { MAIN_HELP, MONITOR_HELP, RUN_HELP, UsageError } from './args.js';
import { monitorCommand } from './monitor.js';
import { runCommand } from './run.js';

/** Exit status of a usage error (bad option, missing command), as most Unix tools use. */
export const USAGE_EXIT = 2;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const help = command === 'run' ? RUN_HELP : command === 'monitor' ? MONITOR_HELP : MAIN_HELP;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest);
      case 'monitor':
        return await monitorCommand(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return command === undefined ? USAGE_EXIT : 0;
      default:
        throw new UsageError(`unknown command "${command}" (expected run or monitor)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`carbonscope: ${err.message}\n\n${help}`);
      return USAGE_EXIT;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`carbonscope: bad setting ${err.message}\n`);
      return USAGE_EXIT;
    }
    process.stderr.write(
      `carbonscope: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// Leave with the command's status once stdout and stderr have drained (a pipe may be slow),
// without waiting on anything still pending: an exporter still retrying a collector that never
// answered would hold the exit for its own timeouts.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
