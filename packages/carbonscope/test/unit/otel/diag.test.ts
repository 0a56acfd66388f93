import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { expect } from 'chai';
import {
  diagLevelOf,
  hasDiagLogger,
  installMaskingDiag,
  maskingDiagLogger,
} from '../../../src/otel/diag.js';

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
