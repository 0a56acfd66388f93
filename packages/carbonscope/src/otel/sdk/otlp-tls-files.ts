import { createPrivateKey, X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { type Env, SettingsError } from '../../settings.js';
import { cutText } from '../../shown-value.js';
import { NotRegularFileError, namesNoFile, readRegularFile } from './regular-file.js';
import { opensslReason, type TlsVariables } from './tls-failure.js';

/** The signals whose OTLP exporters carbonscope makes: metrics, and the service's spans. */
export type OtlpSignal = 'METRICS' | 'TRACES';

/** A TLS file an OTLP variable names, as the exporter picks it: the signal's own first. */
export interface NamedTlsFile {
  variable: string;
  path: string;
}

/** The file and its bytes; undefined where none is named or it could not be read. */
interface Read extends NamedTlsFile {
  data: Buffer;
}

/**
 * What Node takes as a CA in PEM: OpenSSL's plain, old (`X509 CERTIFICATE`) and trusted
 * (`TRUSTED CERTIFICATE`, what `openssl x509 -trustout` writes) forms.
 */
const PEM_CERTIFICATE = /-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----/;

/** A PEM key under a passphrase: PKCS#8's own label, or the traditional form's header. */
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/;

/**
 * The most characters of a file's path a message shows: a variable may hold any length (a
 * 100,000-character one made a 100 KB warning line), and the start says which file was meant.
 */
const SHOWN_PATH = 200;

const shownPath = (path: string) => cutText(path, SHOWN_PATH);

/** `value` unless unset or blank: how the exporter reads a variable (getStringFromEnv). */
const nonBlank = (value: string | undefined) => (value?.trim() ? value : undefined);

/** The file `OTEL_EXPORTER_OTLP_[signal_]name` names, and which of the two names it. */
export function otlpTlsFile(env: Env, signal: OtlpSignal, name: string): NamedTlsFile | undefined {
  for (const variable of [`OTEL_EXPORTER_OTLP_${signal}_${name}`, `OTEL_EXPORTER_OTLP_${name}`]) {
    const path = nonBlank(env[variable]);
    if (path !== undefined) return { variable, path };
  }
  return undefined;
}

/**
 * `make` (an OTLP exporter's constructor) run with every TLS variable of `signal` that names a
 * FIFO, a device or a socket unset, and set again once it returns (nothing else runs meanwhile).
 * The exporter reads each file whole as it is made, for agents it never uses once given
 * carbonscope's (read by readRegularFile): a FIFO held the process there without end, /dev/zero
 * grew it by gigabytes. otlpTlsFileErrors names each.
 */
export function madeWithoutNonFiles<T>(signal: OtlpSignal, make: () => T): T {
  const hidden: Array<[string, string]> = [];
  for (const name of ['CERTIFICATE', 'CLIENT_CERTIFICATE', 'CLIENT_KEY']) {
    for (const variable of [`OTEL_EXPORTER_OTLP_${signal}_${name}`, `OTEL_EXPORTER_OTLP_${name}`]) {
      const path = nonBlank(process.env[variable]);
      if (path === undefined || !namesNoFile(resolve(process.cwd(), path))) continue;
      hidden.push([variable, path]);
    }
  }
  for (const [variable] of hidden) delete process.env[variable];
  try {
    return make();
  } finally {
    for (const [variable, path] of hidden) process.env[variable] = path;
  }
}

/** The variables in effect for `signal`'s exporter, for a handshake's failure to name. */
export function otlpTlsVariables(env: Env, signal: OtlpSignal): TlsVariables {
  const named = (name: string) =>
    otlpTlsFile(env, signal, name)?.variable ?? `OTEL_EXPORTER_OTLP_${name}`;
  return { ca: named('CERTIFICATE'), cert: named('CLIENT_CERTIFICATE'), key: named('CLIENT_KEY') };
}

/** What follows a file that cannot be read: where the process goes on, and where it stops. */
const WITHOUT_IT = {
  goesOn: 'the exporter pushes without it',
  stops: 'not started, as the exporter would push without it',
} as const;

/**
 * What is wrong with the TLS files the OTLP exporter of `signal` reads, as SettingsErrors (each
 * names its variable; never a file's bytes, a key's least of all). The exporter reads them from
 * the working directory and leaves out one it cannot read with a diag line only OTEL_LOG_LEVEL
 * shows, and Node takes a CA file that holds no certificate, or a client certificate without its
 * key, without a word: every push then failed on a handshake whose error named no variable.
 * `then` says what the caller does about a file it cannot read.
 */
function otlpTlsFileErrors(
  env: Env,
  signal: OtlpSignal,
  then: keyof typeof WITHOUT_IT,
): SettingsError[] {
  const errors: SettingsError[] = [];
  const read = (name: string): Read | undefined => {
    const file = otlpTlsFile(env, signal, name);
    if (file === undefined) return undefined;
    try {
      return { ...file, data: readRegularFile(resolve(process.cwd(), file.path)) };
    } catch (err) {
      // A FIFO or a device is left unread, and out of the exporter's reach (madeWithoutNonFiles).
      const why =
        err instanceof NotRegularFileError
          ? 'not a regular file: a FIFO or a device'
          : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      errors.push(
        new SettingsError(
          file.variable,
          `cannot read ${shownPath(file.path)} (${why}); ${WITHOUT_IT[then]}`,
        ),
      );
      return undefined;
    }
  };
  const ca = read('CERTIFICATE');
  const cert = read('CLIENT_CERTIFICATE');
  const key = read('CLIENT_KEY');
  if (ca && !PEM_CERTIFICATE.test(ca.data.toString('latin1'))) {
    // Node then trusts no CA at all for the exporter, its default ones neither.
    errors.push(
      new SettingsError(
        ca.variable,
        `${shownPath(ca.path)} holds no PEM certificate: no collector is trusted`,
      ),
    );
  }
  if (cert && key) {
    const error = keyPairError(cert, key);
    if (error) errors.push(error);
  }
  const certNamed = otlpTlsFile(env, signal, 'CLIENT_CERTIFICATE');
  const keyNamed = otlpTlsFile(env, signal, 'CLIENT_KEY');
  if ((certNamed === undefined) !== (keyNamed === undefined)) {
    const [set, missing] = certNamed
      ? [certNamed.variable, 'CLIENT_KEY']
      : [keyNamed?.variable ?? '', 'CLIENT_CERTIFICATE'];
    errors.push(
      new SettingsError(
        set,
        `set without OTEL_EXPORTER_OTLP_${missing}: no client certificate is sent`,
      ),
    );
  }
  return errors;
}

/**
 * Why Node cannot present `cert` with `key`, if it cannot: a key under a passphrase (the exporter
 * reads none), a file it cannot parse, or a key that is not the certificate's; Node refuses the
 * last only where both are of one type (RSA, EC): of two types it keeps them apart, and sends no
 * certificate.
 */
function keyPairError(cert: Read, key: Read): SettingsError | undefined {
  const fails = (reason: string) =>
    new SettingsError(
      cert.variable,
      `${reason} (with ${key.variable}): every push over https fails`,
    );
  if (ENCRYPTED_KEY.test(key.data.toString('latin1'))) {
    return new SettingsError(
      key.variable,
      `${shownPath(key.path)} is encrypted, and the exporter reads no passphrase: every push over https fails`,
    );
  }
  try {
    createSecureContext({ cert: cert.data, key: key.data });
  } catch (err) {
    return fails(opensslReason((err as Error).message) ?? (err as Error).message);
  }
  try {
    const matches = new X509Certificate(cert.data).checkPrivateKey(createPrivateKey(key.data));
    return matches ? undefined : fails('key values mismatch');
  } catch {
    // Node's TLS took both; a form this check cannot parse is no reason to warn.
    return undefined;
  }
}

/** The lines that tell otlpTlsFileErrors, for a process that goes on without them (register). */
export function otlpTlsFileProblems(env: Env, signal: OtlpSignal): string[] {
  return otlpTlsFileErrors(env, signal, 'goesOn').map((e) => e.message);
}

/** The first of otlpTlsFileErrors for any of `signals`, thrown: a service will not start. */
export function checkOtlpTlsFiles(env: Env, signals: readonly OtlpSignal[]): void {
  for (const signal of signals) {
    const [first] = otlpTlsFileErrors(env, signal, 'stops');
    if (first) throw first;
  }
}
