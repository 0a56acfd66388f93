import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { expect } from 'chai';
import {
  diagLevelOf,
  hasDiagLogger,
  installMaskingDiag,
  maskingDiagLogger,
} from '../../../../src/otel/binding/diag.js';
import { otlpSecretsOf } from '../../../../src/settings.js';
import { writtenBy } from '../../../helpers/captured-writes.js';

/** A diag logger that keeps each line as `level: text`. */
function memoryDiag(): { logger: DiagLogger; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      lines.push(`${level}: ${[message, ...args].map(String).join(' ')}`);
  return {
    lines,
    logger: {
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      verbose: at('verbose'),
    },
  };
}

describe("carbonscope's diag logger (OTEL_LOG_LEVEL for an SDK it starts)", () => {
  afterEach(() => diag.disable());

  // The console's diag logger writes INFO and DEBUG to stdout (console.info, console.debug) and
  // VERBOSE as console.trace, a stack each line: an application's JSON logs on stdout got the
  // SDK's text between them, 19 lines in 10 s of a refused push at OTEL_LOG_LEVEL=info.
  it('writes every level to stderr, one line each, and nothing to stdout', () => {
    const written = writtenBy(() => {
      const masking = maskingDiagLogger(['tok-HEADER-9f8e7d']);
      masking.error('export failed: %s', 'refused tok-HEADER-9f8e7d');
      masking.warn('w');
      masking.info('Export retry time %dms exceeds remaining timeout', 1021);
      masking.debug('d %o', { a: 1 });
      masking.verbose('v');
    });
    expect(written.stdout).to.equal('');
    expect(written.stderr).to.equal(
      [
        'export failed: refused [redacted]',
        'w',
        'Export retry time 1021ms exceeds remaining timeout',
        'd { a: 1 }',
        'v',
        '',
      ].join('\n'),
    );
  });

  it('masks the secrets in the message and in the arguments, formatted as the console would', () => {
    const { logger, lines } = memoryDiag();
    const masking = maskingDiagLogger(['OTLP-PW-42', 'tok-HEADER-9f8e7d'], logger);
    masking.error('export to %s failed', 'http://push:OTLP-PW-42@127.0.0.1:4318', {
      headers: { 'x-api-key': 'tok-HEADER-9f8e7d' },
    });
    expect(lines).to.deep.equal([
      "error: export to http://push:[redacted]@127.0.0.1:4318 failed { headers: { 'x-api-key': '[redacted]' } }",
    ]);
  });

  // The SDK quotes a collector's reason phrase (`400 Bad \x1b[2J`) as it came: with
  // OTEL_LOG_LEVEL set, whoever answered a push could clear the terminal or overwrite a line.
  it("writes control characters as escapes, keeping a stack's line breaks", () => {
    const { logger, lines } = memoryDiag();
    const masking = maskingDiagLogger([], logger);
    masking.error('Export failed: %s', 'Bad \x1b[2J\x07\r\x9b31m EVIL\n    at push');
    expect(lines).to.deep.equal([
      'error: Export failed: Bad \\u001b[2J\\u0007\\r\\u009b31m EVIL\n    at push',
    ]);
  });

  it('masks matrix tokens, form-encoded query values, tabbed passwords and headers, as written', () => {
    const env = {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4318/v1/metrics;token=MATRIX-SECRET-1',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:
        'http://collector:4318/v1/traces?password=PART1-SECRET+PART2-SECRET',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://push:TAB-\tSECRET-3@collector:4318/v1/logs',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer\tHEADER-SECRET-4',
    };
    const { logger, lines } = memoryDiag();
    const masking = maskingDiagLogger(otlpSecretsOf(env), logger);
    for (const url of Object.values(env)) {
      masking.warn("Could not parse environment-provided export URL: '%s'", url);
      masking.debug('config %o', { url, decoded: decodeURIComponent(url.replace(/\+/g, ' ')) });
    }
    masking.error('export failed: 401 invalid token HEADER-SECRET-4');
    expect(lines).to.have.length(9);
    for (const line of lines) expect(line).to.not.match(/SECRET|PART/);
  });

  it('reads OTEL_LOG_LEVEL as the SDK does: any case, INFO for a name it does not know', () => {
    expect(diagLevelOf(undefined)).to.equal(undefined);
    expect(diagLevelOf(' ')).to.equal(undefined);
    expect(diagLevelOf('debug')).to.equal(DiagLogLevel.DEBUG);
    expect(diagLevelOf('NONE')).to.equal(DiagLogLevel.NONE);
    expect(diagLevelOf('0')).to.equal(DiagLogLevel.INFO);
    expect(diagLevelOf('loud')).to.equal(DiagLogLevel.INFO);
  });

  it('installs nothing without OTEL_LOG_LEVEL', () => {
    expect(installMaskingDiag({}, ['tok-HEADER-9f8e7d'])).to.equal(false);
    expect(hasDiagLogger()).to.equal(false);
  });

  it("keeps the application's diag logger, unless asked to replace its own NodeSDK's", () => {
    const own = memoryDiag();
    diag.setLogger(own.logger, DiagLogLevel.WARN);
    const env = { OTEL_LOG_LEVEL: 'debug' };
    expect(installMaskingDiag(env, ['tok-HEADER-9f8e7d'])).to.equal(false);
    diag.warn('refused tok-HEADER-9f8e7d');
    expect(own.lines).to.deep.equal(['warn: refused tok-HEADER-9f8e7d']);
    expect(installMaskingDiag(env, ['tok-HEADER-9f8e7d'], { replace: true })).to.equal(true);
    // Replaced without the API's "will be overwritten" warning, which carries a stack trace.
    expect(own.lines).to.have.length(1);
  });
});
