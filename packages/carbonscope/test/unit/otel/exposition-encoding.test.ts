import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { acceptsGzip, gzipExposition } from '../../../src/otel/exposition-encoding.js';

describe('exposition encoding: gzip when the scrape asks for it', () => {
  it('reads Accept-Encoding as RFC 9110 does: named with q above 0, or * where it is not named', () => {
    const takes = [
      'gzip',
      'GZIP',
      'x-gzip',
      'deflate, gzip;q=0.5',
      'br;q=1.0, gzip ; q=0.1',
      '*',
      'identity, *;q=0.5',
    ];
    for (const header of takes) expect(acceptsGzip(header), header).to.equal(true);
    const refuses = [undefined, '', 'identity', 'deflate, br', 'gzip;q=0', '*, gzip;q=0', '*;q=0'];
    for (const header of refuses) expect(acceptsGzip(header), String(header)).to.equal(false);
    expect(acceptsGzip(['identity', 'gzip'])).to.equal(true);
  });

  it('gives back the same bytes once decompressed', () => {
    const text = '# TYPE a counter\na_total{x="é 🌍"} 1\n'.repeat(100);
    const zipped = gzipExposition(Buffer.from(text));
    expect(zipped.length).to.be.below(text.length / 10);
    expect(gunzipSync(zipped).toString('utf8')).to.equal(text);
  });
});
