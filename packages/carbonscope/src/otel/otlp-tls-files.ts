import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { type Env, SettingsError } from '../settings.js';
import { opensslReason } from './tls-failure.js';

/** The signals whose OTLP exporters carbonscope makes: metrics, and the service's spans. */
export type TlsSignal = 'METRICS' | 'TRACES';

/** A TLS file an OTLP variable names, as the exporter picks it: the signal's own first. */
interface Named {
  variable: string;
  path: string;
}

/** The file and its bytes; undefined where none is named or it could not be read. */
interface Read extends Named {
  data: Buffer;
}

/** `value` unless unset or blank: how the exporter reads a variable (getStringFromEnv). */
const nonBlank = (value: string | undefined) => (value?.trim() ? value : undefined);

function named(env: Env, signal: TlsSignal, name: string): Named | undefined {
  for (const variable of [`OTEL_EXPORTER_OTLP_${signal}_${name}`, `OTEL_EXPORTER_OTLP_${name}`]) {
    const path = nonBlank(env[variable]);
    if (path !== undefined) return { variable, path };
  }
  return undefined;
}

/**
 * What is wrong with the TLS files the OTLP exporter of `signal` reads, as SettingsErrors (each
 * names its variable; never a file's bytes, a key's least of all). The exporter reads them from
 * the working directory and leaves out one it cannot read with a diag line only OTEL_LOG_LEVEL
 * shows, and Node takes a CA file that holds no certificate, or a client certificate without its
 * key, without a word: every push then failed on a handshake whose error named no variable.
 */
export function otlpTlsFileErrors(env: Env, signal: TlsSignal): SettingsError[] {
  const errors: SettingsError[] = [];
  const read = (name: string): Read | undefined => {
    const file = named(env, signal, name);
    if (file === undefined) return undefined;
    try {
      return { ...file, data: readFileSync(resolve(process.cwd(), file.path)) };
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      errors.push(
        new SettingsError(
          file.variable,
          `cannot read ${file.path} (${why}); the exporter pushes without it`,
        ),
      );
      return undefined;
    }
  };
  const ca = read('CERTIFICATE');
  const cert = read('CLIENT_CERTIFICATE');
  const key = read('CLIENT_KEY');
  if (ca && !ca.data.includes('-----BEGIN CERTIFICATE-----')) {
    // Node then trusts no CA at all for the exporter, its default ones neither.
    errors.push(
      new SettingsError(
        ca.variable,
        `${ca.path} holds no PEM certificate: no collector is trusted`,
      ),
    );
  }
  if (cert && key) {
    try {
      createSecureContext({ cert: cert.data, key: key.data });
    } catch (err) {
      const reason = opensslReason((err as Error).message) ?? (err as Error).message;
      errors.push(
        new SettingsError(
          cert.variable,
          `${reason} (with ${key.variable}): every push over https fails`,
        ),
      );
    }
  }
  const certNamed = named(env, signal, 'CLIENT_CERTIFICATE');
  const keyNamed = named(env, signal, 'CLIENT_KEY');
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

/** The lines that tell otlpTlsFileErrors, for a process that goes on without them (register). */
export function otlpTlsFileProblems(env: Env, signal: TlsSignal): string[] {
  return otlpTlsFileErrors(env, signal).map((e) => e.message);
}

/** Throws the first of otlpTlsFileErrors for any of `signals`: for a service that refuses to start. */
export function checkOtlpTlsFiles(env: Env, signals: readonly TlsSignal[]): void {
  for (const signal of signals) {
    const [first] = otlpTlsFileErrors(env, signal);
    if (first) throw first;
  }
}
