import { expect } from 'chai';
import { malformedOtelVariables } from '../../../../src/otel/binding/env-lists.js';

describe('the OTel switches an SDK of carbonscope reads', () => {
  // NodeSDK read OTEL_SDK_DISABLED=1 as false without a word: the SDK the user turned off ran.
  for (const value of ['1', 'yes', 'on']) {
    it(`says once that OTEL_SDK_DISABLED=${value} is no switch, and that the SDK runs`, () => {
      const lines = malformedOtelVariables(
        { OTEL_SDK_DISABLED: value },
        { sdk: true, headers: false },
      );
      expect(lines).to.deep.equal([
        `OTEL_SDK_DISABLED: expected true or false (got "${value}"); false is used: the SDK runs`,
      ]);
    });
  }

  it('takes true and false in any case, and says nothing where no SDK is started', () => {
    for (const value of ['TRUE', ' false ', 'False']) {
      expect(malformedOtelVariables({ OTEL_SDK_DISABLED: value }, { sdk: true, headers: false })).to
        .be.empty;
    }
    expect(malformedOtelVariables({ OTEL_SDK_DISABLED: '1' }, { sdk: false, headers: true })).to.be
      .empty;
  });

  it('still says an unknown OTEL_LOG_LEVEL is read as INFO', () => {
    expect(
      malformedOtelVariables({ OTEL_LOG_LEVEL: 'loud' }, { sdk: true, headers: false }),
    ).to.deep.equal([
      'OTEL_LOG_LEVEL: expected ALL, VERBOSE, DEBUG, INFO, WARN, ERROR or NONE (got "loud"); INFO is used',
    ]);
  });
});

// The exporter reads a compression other than gzip or none as unset, with a diag line only
// OTEL_LOG_LEVEL shows: a collector's link asked to carry gzip got the bytes as written.
describe('the OTLP compression an exporter of carbonscope reads', () => {
  it('says once which compression variable the exporter ignores', () => {
    const env = {
      OTEL_EXPORTER_OTLP_COMPRESSION: 'br',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'GZIP',
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'zstd',
    };
    expect(malformedOtelVariables(env, { sdk: false, headers: true })).to.deep.equal([
      'OTEL_EXPORTER_OTLP_COMPRESSION: expected gzip or none (got "br"); the exporter ignores it',
      'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: expected gzip or none (got "GZIP"); the exporter ignores it',
    ]);
    expect(malformedOtelVariables(env, { sdk: true, headers: false })).to.be.empty;
  });

  it('takes gzip and none as the exporter does, spaces around them included', () => {
    const env = {
      OTEL_EXPORTER_OTLP_COMPRESSION: ' gzip ',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none',
    };
    expect(malformedOtelVariables(env, { sdk: false, headers: true })).to.be.empty;
  });
});
