/**
 * Why a push's TLS handshake failed, in words a user can act on. Where the collector's alert
 * ended it, Node's message is OpenSSL's own error string: its thread, library, function, source
 * file and line and a newline, around the few words that matter (`80FC…:error:0A00045C:SSL
 * routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/
 * rec_layer_s3.c:1601:SSL alert number 116\n`); those words are kept. Where the variable that
 * puts it right is known, the text names it: the collector behind a private CA, or asking for a
 * client certificate (mTLS), is the usual production setting, and the exporter names neither.
 */

/** OpenSSL's error string (ERR_error_string_n): `[thread:]error:code:library:function:reason:…`. */
const OPENSSL_ERROR = /(?:[0-9A-F]+:)?error:[0-9A-F]{8}:[^:]*:[^:]*:([^:\r\n]+)/;

/**
 * The variables whose files the exporter takes for its CA and client certificate: a signal's own
 * (`OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE`) where it is set, which the general one then does
 * not change (otlpTlsVariables).
 */
export interface TlsVariables {
  ca: string;
  cert: string;
  key: string;
}

/** The general variables: what the exporter reads where no signal's own is set. */
export const GENERAL_TLS_VARIABLES: TlsVariables = {
  ca: 'OTEL_EXPORTER_OTLP_CERTIFICATE',
  cert: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  key: 'OTEL_EXPORTER_OTLP_CLIENT_KEY',
};

/** A CA file replaces the CAs Node trusts, NODE_EXTRA_CA_CERTS' with them: the hint says so. */
const caHint = (v: TlsVariables) =>
  `${v.ca} (or, where it is unset, NODE_EXTRA_CA_CERTS) names the CA that signed the collector's certificate`;
const clientHint = (v: TlsVariables) => `${v.cert} and ${v.key} name it`;

/** Node's codes for a server certificate no CA it trusts vouches for. */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** OpenSSL's reasons for the collector's alerts, and what each means for the client's side. */
const ALERT_HINTS: ReadonlyMap<string, (v: TlsVariables) => string> = new Map([
  // TLS 1.3: the collector's client_ca_file asks for one, and none was sent.
  [
    'tlsv13 alert certificate required',
    (v: TlsVariables) => `the collector asks for a client certificate: ${clientHint(v)}`,
  ],
  // TLS 1.2 says only that the handshake failed, which a missing client certificate is too.
  [
    'sslv3 alert handshake failure',
    (v: TlsVariables) =>
      `the collector refused the handshake; if it asks for a client certificate, ${clientHint(v)}`,
  ],
  ['tlsv1 alert unknown ca', () => 'the collector does not trust the CA of the client certificate'],
  ['sslv3 alert bad certificate', () => 'the collector refused the client certificate'],
  ['sslv3 alert certificate unknown', () => 'the collector refused the client certificate'],
  // An https endpoint whose port speaks plain HTTP.
  [
    'wrong version number',
    () => 'the collector does not speak TLS there: is the endpoint http://?',
  ],
]);

/**
 * A TLS failure's text: OpenSSL's reason alone, with what to do where that is known; undefined
 * where `err` is no TLS failure of the kinds known here (its message is then shown as it is).
 * `variables`: those the exporter that failed reads (otlpTlsVariables), which the hint names.
 */
export function tlsFailureText(
  err: Error,
  variables: TlsVariables = GENERAL_TLS_VARIABLES,
): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNTRUSTED_CODES.has(code)) {
    return `${err.message}: ${caHint(variables)}`;
  }
  const reason = opensslReason(err.message);
  if (reason === undefined) return undefined;
  const hint = ALERT_HINTS.get(reason);
  return hint === undefined ? `TLS: ${reason}` : `TLS: ${reason}: ${hint(variables)}`;
}

/** The reason of the OpenSSL error string in `message` (`key values mismatch`), if it holds one. */
export function opensslReason(message: string): string | undefined {
  return OPENSSL_ERROR.exec(message)?.[1]?.trim() || undefined;
}
