import { expect } from 'chai';
import { histogramAggregationNote } from '../../../src/otel/histogram-aggregation.js';

const VARIABLE = 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION';

describe('histogramAggregationNote (what register says of the default histogram aggregation)', () => {
  // The OTel spec reads an enum value in any case, as carbonscope reads the temporality
  // preference: `BASE2_EXPONENTIAL_BUCKET_HISTOGRAM` was called an unknown value, ignored.
  it('reads the value in any case, as the spec reads an enum', () => {
    const exponential = histogramAggregationNote({
      [VARIABLE]: 'BASE2_Exponential_Bucket_Histogram',
    });
    expect(exponential).to.include("carbonscope's histograms are pushed with explicit buckets");
    expect(histogramAggregationNote({ [VARIABLE]: ' Explicit_Bucket_Histogram ' })).to.equal(
      undefined,
    );
  });

  it('quotes an unknown value cut short and printable, on one line', () => {
    const note = histogramAggregationNote({
      [VARIABLE]: `\u001b[31m${'a'.repeat(10_000)}\u202e\n`,
    });
    expect(note).to.match(/unknown value "\\u001b\[31ma+…" ignored/);
    expect(note?.length).to.be.below(300);
    const raw = [...(note ?? '')].filter((c) => c < ' ' || c === '\u007f' || c === '\u202e');
    expect(raw).to.deep.equal([]);
  });
});
