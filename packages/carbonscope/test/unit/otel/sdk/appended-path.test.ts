import { expect } from 'chai';
import { appendedPathProblem } from '../../../../src/otel/sdk/index.js';

// The span exporter appends v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT as written, as the metric
// exporter does v1/metrics (register's start warns of that: own-provider.test.ts): after a query
// or a fragment every span went to the path before it, and nothing said so.
describe('the path an OTLP exporter appends after a query or a fragment, for traces', () => {
  const line = (after: string) =>
    `OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/traces after its ${after}, so traces are pushed to the path before it, not to …/v1/traces; set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to the full URL instead (the exporter takes it as given)`;
  const base = 'http://127.0.0.1:4318/otlp';

  it('names v1/traces and the traces variable, never the query or the path', () => {
    const query = appendedPathProblem(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-5` },
      'traces',
    );
    expect(query).to.equal(line('query'));
    const fragment = appendedPathProblem(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-5#part` },
      'traces',
    );
    expect(fragment).to.equal(line('fragment'));
    expect(
      appendedPathProblem({ OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/v1/traces?t=1` }, 'traces'),
    ).to.equal(
      "OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends v1/traces after its query, so its last value ends in /v1/traces (a collector's token no longer matches); set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to the full URL instead (the exporter takes it as given)",
    );
  });

  it('says nothing where the traces endpoint is set or the base endpoint is plain', () => {
    const given = appendedPathProblem(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-5`,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${base}/v1/traces?token=QUERY-SECRET-5`,
      },
      'traces',
    );
    expect(given).to.equal(undefined);
    expect(appendedPathProblem({ OTEL_EXPORTER_OTLP_ENDPOINT: base }, 'traces')).to.equal(
      undefined,
    );
    // The metrics endpoint, used as given, leaves the traces pushed to the appended path.
    const other = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `${base}?token=QUERY-SECRET-5`,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${base}/v1/metrics`,
    };
    expect(appendedPathProblem(other, 'traces')).to.equal(line('query'));
    expect(appendedPathProblem(other)).to.equal(undefined);
  });
});
