import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkOtlpTlsFiles, otlpTlsFileProblems } from '../../../src/otel/otlp-tls-files.js';
import { SettingsError } from '../../../src/settings.js';
import { makeTestPki, type TestPki } from '../../helpers/tls-certs.js';

describe('the OTLP TLS files, read as the exporter reads them', function () {
  this.timeout(30_000);
  let dir: string;
  let pki: TestPki;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carbonscope-tls-files-'));
    pki = await makeTestPki(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds nothing wrong with a CA, a client certificate and its key', () => {
    const env = {
      OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.client.cert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.client.key,
    };
    expect(otlpTlsFileProblems(env, 'METRICS')).to.deep.equal([]);
    expect(otlpTlsFileProblems({}, 'METRICS')).to.deep.equal([]);
  });

  // Node's words for it, on every push: `error:05800074:x509 certificate routines::key values
  // mismatch`.
  it('names a client certificate given the wrong key, never what the key file holds', async () => {
    const env = {
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.client.cert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.server.key,
    };
    const lines = otlpTlsFileProblems(env, 'METRICS');
    expect(lines).to.deep.equal([
      'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: key values mismatch (with OTEL_EXPORTER_OTLP_CLIENT_KEY): every push over https fails',
    ]);
    const key = (await readFile(pki.server.key, 'utf8')).split('\n')[1] ?? '';
    expect(lines.join('')).not.to.include(key);
  });

  // Node then trusts no CA at all: the push failed as "unable to verify the first certificate".
  it('names a CA file that holds no certificate', () => {
    expect(
      otlpTlsFileProblems({ OTEL_EXPORTER_OTLP_CERTIFICATE: pki.client.key }, 'METRICS'),
    ).to.deep.equal([
      `OTEL_EXPORTER_OTLP_CERTIFICATE: ${pki.client.key} holds no PEM certificate: no collector is trusted`,
    ]);
  });

  it("reads the signal's own variable first, and a blank one as unset, as the exporter does", () => {
    const env = {
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem',
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: pki.ca,
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: ' ',
    };
    expect(otlpTlsFileProblems(env, 'METRICS')).to.deep.equal([]);
    expect(otlpTlsFileProblems(env, 'TRACES')).to.deep.equal([
      'OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read /nonexistent/ca.pem (ENOENT); the exporter pushes without it',
    ]);
  });

  it('names a key without its certificate', () => {
    expect(
      otlpTlsFileProblems({ OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: pki.client.key }, 'TRACES'),
    ).to.deep.equal([
      'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: set without OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: no client certificate is sent',
    ]);
  });

  it('throws the first as a SettingsError for a service that refuses to start on it', () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: '/nonexistent/client.pem' };
    expect(() => checkOtlpTlsFiles(env, ['METRICS'])).not.to.throw();
    expect(() => checkOtlpTlsFiles(env, ['METRICS', 'TRACES']))
      .to.throw(SettingsError)
      .with.property('variable', 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE');
  });
});
