import { printable, printableLines, terminalJson } from '../printable.js';
import { messageOf } from '../thrown-text.js';
import type { CommonOptions } from './args.js';
import { appendEmissionsRow } from './csv.js';
import { lineStartOn } from './line-end.js';
import { hostFacts, type Report, reportToRow } from './report.js';
import type { Session } from './session.js';
import { formatSummary } from './summary.js';

/**
 * The end of every measurement: the CSV row (a failure is reported, never fatal: the summary is
 * still printed), the human summary on stderr, the JSON on stdout, the last OTLP push.
 * Returns false when the CSV could not be written or the last push failed.
 */
export async function finish(
  report: Report,
  options: CommonOptions,
  session: Session,
): Promise<boolean> {
  let written = true;
  if (options.output) {
    try {
      appendEmissionsRow(
        options.output,
        reportToRow(report, hostFacts(session.ramUse()), new Date(report.endedAt), {
          // `estimate` probes no GPU (select.ts): how many there are is not known.
          gpusSought: session.config.energy.source !== 'estimate',
        }),
      );
      report.output = { path: options.output, written: true };
    } catch (err) {
      written = false;
      const message = messageOf(err);
      report.output = { path: options.output, written: false, error: message };
      process.stderr.write(session.redact(`carbonscope: error: ${printable(message)}\n`));
    }
  }
  // Written outside the logger, they may quote a path or a command line that holds a secret,
  // and reasons in others' words (an exporter's, nvidia-smi's): escaped as a log line is.
  // Each on a line of its own where the command's last line in the same file has no break.
  const summary = printableLines(formatSummary(report));
  process.stderr.write(session.redact(`${lineStartOn(2)}${summary}`));
  if (options.json) {
    process.stdout.write(session.redact(`${lineStartOn(1)}${terminalJson(report)}\n`));
  }
  const pushed = await session.close();
  // As the CSV's line says where its row went: a push that got through said nothing, one that
  // failed, or lost earlier pushes' figures, says so (session.close). The target is masked
  // (withoutCredentials) already.
  if (pushed === 'pushed' && session.otlpTarget !== undefined) {
    process.stderr.write(
      session.redact(`  OTLP: pushed the metrics to ${printable(session.otlpTarget)}\n`),
    );
  }
  return written && pushed !== 'failed';
}
