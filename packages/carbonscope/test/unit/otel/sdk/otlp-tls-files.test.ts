import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { checkOtlpTlsFiles, otlpTlsFileProblems } from '../../../../src/otel/sdk/otlp-tls-files.js';
import { SettingsError } from '../../../../src/settings.js';
import { makeTestPki, openssl, type TestPki } from '../../../helpers/tls-certs.js';
import { waitFor } from '../../../helpers/wait.js';

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

  // Node keeps a certificate and a key of another type (EC, RSA) apart without a word, and then
  // sent no client certificate: every push failed on 'tlsv13 alert certificate required'.
  it('names a client certificate given a key of another type', async () => {
    const ecKey = join(dir, 'ec.key');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(ecKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const env = {
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.client.cert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: ecKey,
    };
    expect(otlpTlsFileProblems(env, 'METRICS')).to.deep.equal([
      'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: key values mismatch (with OTEL_EXPORTER_OTLP_CLIENT_KEY): every push over https fails',
    ]);
  });

  // The exporter reads no passphrase: Node's words on every push were 'bad decrypt' (or
  // 'interrupted or cancelled'), naming neither the key nor why.
  it('names a client key encrypted with a passphrase, PKCS#8 or traditional', async () => {
    const pem = await readFile(pki.client.key);
    const pkcs8 = join(dir, 'client-pkcs8-encrypted.key');
    const rsa = join(dir, 'client-rsa-encrypted.key');
    const encrypted = (type: 'pkcs8' | 'pkcs1') =>
      createPrivateKey(pem).export({ type, format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p' });
    await writeFile(pkcs8, encrypted('pkcs8'));
    await writeFile(rsa, encrypted('pkcs1'));
    for (const key of [pkcs8, rsa]) {
      const env = {
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.client.cert,
        OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: key,
      };
      expect(otlpTlsFileProblems(env, 'METRICS')).to.deep.equal([
        `OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: ${key} is encrypted, and the exporter reads no passphrase: every push over https fails`,
      ]);
    }
  });

  // A CA bundle, a file of Windows line ends, a chain, a certificate and its key in one file, the
  // key in PKCS#8, OpenSSL's trusted form of a CA: all taken by Node, and none to warn of.
  it('finds nothing wrong with the forms of a valid setup Node takes', async () => {
    const [ca, client, key] = await Promise.all(
      [pki.ca, pki.client.cert, pki.client.key].map((f) => readFile(f, 'utf8')),
    );
    const files = {
      bundle: `${await readFile(pki.otherCa, 'utf8')}${ca}`,
      crlfCa: ca.replaceAll('\n', '\r\n'),
      crlfKey: key.replaceAll('\n', '\r\n'),
      chain: `${client}${ca}`,
      combined: `${key}${client}`,
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const trusted = join(dir, 'trusted.crt');
    await openssl(['x509', '-in', pki.ca, '-trustout', '-addtrust', 'serverAuth', '-out', trusted]);
    const pkcs8 = join(dir, 'client-pkcs8.key');
    await writeFile(pkcs8, createPrivateKey(key).export({ type: 'pkcs8', format: 'pem' }));
    const setups = [
      [join(dir, 'bundle'), join(dir, 'chain'), pkcs8],
      [join(dir, 'crlfCa'), pki.client.cert, join(dir, 'crlfKey')],
      [trusted, join(dir, 'combined'), join(dir, 'combined')],
    ];
    for (const [ca, cert, key] of setups) {
      const env = {
        OTEL_EXPORTER_OTLP_CERTIFICATE: ca,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: key,
      };
      expect(otlpTlsFileProblems(env, 'METRICS'), JSON.stringify(env)).to.deep.equal([]);
    }
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

  // A 100,000-character path was echoed whole: a 100 KB warning line.
  it('cuts a long path short in the line, its start kept', () => {
    const path = `/nonexistent/${'d'.repeat(100_000)}/ca.pem`;
    const [line] = otlpTlsFileProblems({ OTEL_EXPORTER_OTLP_CERTIFICATE: path }, 'METRICS');
    expect(line).to.match(
      /^OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read \/nonexistent\/d+… \(ENAMETOOLONG\); the exporter pushes without it$/,
    );
    expect(line.length).to.be.below(300);
  });

  // The cut was pinned for a file that cannot be read only: the lines of a file read but wrong
  // (a CA without a certificate, a key under a passphrase) name its path too.
  it('cuts a long path short in the lines of a file read but refused, as of one not read', async () => {
    const folder = join(dir, 'l'.repeat(200), 'm'.repeat(200));
    await mkdir(folder, { recursive: true });
    const ca = join(folder, 'ca.pem');
    const key = join(folder, 'client-encrypted.key');
    await writeFile(ca, 'no certificate here\n');
    const pem = await readFile(pki.client.key);
    await writeFile(
      key,
      createPrivateKey(pem).export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'p',
      }),
    );
    const lines = otlpTlsFileProblems(
      {
        OTEL_EXPORTER_OTLP_CERTIFICATE: ca,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.client.cert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: key,
      },
      'METRICS',
    );
    const shown = `${ca.slice(0, 200)}…`;
    expect(lines).to.deep.equal([
      `OTEL_EXPORTER_OTLP_CERTIFICATE: ${shown} holds no PEM certificate: no collector is trusted`,
      `OTEL_EXPORTER_OTLP_CLIENT_KEY: ${shown} is encrypted, and the exporter reads no passphrase: every push over https fails`,
    ]);
  });

  it('names a key without its certificate', () => {
    expect(
      otlpTlsFileProblems({ OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: pki.client.key }, 'TRACES'),
    ).to.deep.equal([
      'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: set without OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: no client certificate is sent',
    ]);
  });

  // Read whole, a FIFO held the start until a writer came and /dev/zero grew the process past
  // 3.8 GB in 15 s (the service, the CLI's run and register alike): the check runs in a child
  // here, as a hang in this process would stop the suite. Never opened for reading either.
  it('names a FIFO or a device without reading it', () => {
    const fifo = join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const module = new URL('../../../../src/otel/sdk/otlp-tls-files.js', import.meta.url).href;
    const script = `const { otlpTlsFileProblems } = await import(${JSON.stringify(module)});
for (const ca of process.argv.slice(1)) {
  console.log(otlpTlsFileProblems({ OTEL_EXPORTER_OTLP_CERTIFICATE: ca }, 'METRICS').join('|'));
}`;
    const out = spawnSync(
      process.execPath,
      ['--input-type=module', '--max-old-space-size=256', '-e', script, fifo, '/dev/zero'],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(out.signal, out.stderr).to.equal(null);
    expect(out.stdout.trim().split('\n')).to.deep.equal(
      [fifo, '/dev/zero'].map(
        (path) =>
          `OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read ${path} (not a regular file: a FIFO or a device); the exporter pushes without it`,
      ),
    );
  });

  // Opened, even without blocking, a FIFO let go a writer waiting on it (which then died of
  // SIGPIPE as it was closed), and a device's open may act (a terminal, a watchdog): stat first.
  it('leaves a FIFO unopened: a writer waiting on it goes on waiting', async function () {
    const fifo = join(dir, 'waited.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', 'printf x > "$0"', fifo], { stdio: 'ignore' });
    try {
      const wchan = `/proc/${writer.pid}/wchan`;
      const waiting = await waitFor(
        'the writer to wait for a reader',
        async () => (await readFile(wchan, 'utf8')) === 'wait_for_partner',
        2000,
      ).catch(() => false);
      // Linux tells where a process sleeps; where it does not, nothing here can be told.
      if (!waiting) this.skip();
      expect(
        otlpTlsFileProblems({ OTEL_EXPORTER_OTLP_CERTIFICATE: fifo }, 'METRICS'),
      ).to.have.length(1);
      await sleep(200);
      expect(writer.exitCode, 'the writer exited').to.equal(null);
      expect(writer.signalCode, 'the writer was killed').to.equal(null);
    } finally {
      writer.kill();
    }
  });

  it('throws the first as a SettingsError for a service that refuses to start on it', () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: '/nonexistent/client.pem' };
    expect(() => checkOtlpTlsFiles(env, ['METRICS'])).not.to.throw();
    expect(() => checkOtlpTlsFiles(env, ['METRICS', 'TRACES']))
      .to.throw(SettingsError)
      .with.property('variable', 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE');
  });

  // The line run and register warn with says the exporter pushes without the file; the service
  // does not start, and its line said so only in its "invalid setting" prefix.
  it('says, for a service that refuses to start, that it does not start', () => {
    const env = { OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' };
    expect(() => checkOtlpTlsFiles(env, ['METRICS'])).to.throw(
      SettingsError,
      'OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read /nonexistent/ca.pem (ENOENT); not started, as the exporter would push without it',
    );
  });
});
