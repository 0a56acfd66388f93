import { once } from 'node:events';
import { createServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { otlpTlsVariables } from '../../../../src/otel/sdk/otlp-tls-files.js';
import { tlsFailureText } from '../../../../src/otel/sdk/tls-failure.js';

/** The error of an https request to a server that speaks plain HTTP, as Node gives it. */
async function httpsToPlainHttp(): Promise<Error> {
  const server = createServer((_req, res) => res.end()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    req.end();
    const [err] = (await once(req, 'error')) as [Error];
    return err;
  } finally {
    server.close();
  }
}

describe('tlsFailureText', () => {
  // Node's message, its function and source file OpenSSL's own (Node 20: `write EPROTO 80…:error:
  // 0A00010B:SSL routines:ssl3_get_record:wrong version number:…/ssl3_record.c:350:\n`; Node 24:
  // `tls_validate_record_header`, `…/methods/tlsany_meth.c:77`).
  it("keeps OpenSSL's reason alone, and says what it means", async () => {
    const err = await httpsToPlainHttp();
    expect(err.message).to.match(
      /:error:[0-9A-F]{8}:SSL routines:[^:]*:wrong version number:.+\.c:\d+:/,
    );
    expect(tlsFailureText(err)).to.equal(
      'TLS: wrong version number: the collector does not speak TLS there: is the endpoint http://?',
    );
  });

  it('names the variables for a client certificate the collector asked for (TLS 1.2 and 1.3)', () => {
    const openssl = (reason: string) =>
      new Error(
        `80ACE5EC347F0000:error:0A000410:SSL routines:ssl3_read_bytes:${reason}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n`,
      );
    expect(tlsFailureText(openssl('tlsv13 alert certificate required'))).to.include(
      'the collector asks for a client certificate: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY name it',
    );
    expect(tlsFailureText(openssl('sslv3 alert handshake failure'))).to.include(
      'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
    );
    expect(tlsFailureText(openssl('some alert nobody knows'))).to.equal(
      'TLS: some alert nobody knows',
    );
  });

  // A CA file replaces Node's trusted CAs for the exporter, NODE_EXTRA_CA_CERTS' too: where
  // OTEL_EXPORTER_OTLP_CERTIFICATE names the wrong one, adding the right one there changes nothing.
  it('names the CA variables for a certificate no trusted CA signed', () => {
    const err = Object.assign(new Error('self-signed certificate'), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    expect(tlsFailureText(err)).to.equal(
      "self-signed certificate: OTEL_EXPORTER_OTLP_CERTIFICATE (or, where it is unset, NODE_EXTRA_CA_CERTS) names the CA that signed the collector's certificate",
    );
  });

  // The metrics exporter reads OTEL_EXPORTER_OTLP_METRICS_* before the general variables: where
  // that one is set, setting the general one (what the hint said) changes nothing.
  it('names the metrics variables where they are the ones in effect', () => {
    const variables = otlpTlsVariables(
      {
        OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: 'ca.pem',
        OTEL_EXPORTER_OTLP_CERTIFICATE: 'other.pem',
        OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: 'key.pem',
        OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: ' ',
      },
      'METRICS',
    );
    const untrusted = Object.assign(new Error('self-signed certificate'), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    expect(tlsFailureText(untrusted, variables)).to.equal(
      "self-signed certificate: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE (or, where it is unset, NODE_EXTRA_CA_CERTS) names the CA that signed the collector's certificate",
    );
    const required = new Error(
      '80ACE5EC347F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n',
    );
    // A blank variable is unset to the exporter: the general one is then in effect.
    expect(tlsFailureText(required, variables)).to.equal(
      'TLS: tlsv13 alert certificate required: the collector asks for a client certificate: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY name it',
    );
  });

  it('leaves any other failure to its own message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4318'), {
      code: 'ECONNREFUSED',
    });
    expect(tlsFailureText(refused)).to.equal(undefined);
  });
});
