import { expect } from 'chai';
import { bodyReason, HTML_TITLE } from '../../../../src/otel/sdk/refusal-reason.js';
import { expectLinear } from '../../../helpers/linear-pattern.js';

describe('otel/sdk/refusal-reason', () => {
  it('finds an HTML title in linear time: a proxy writes the page (16 K of "<title" took 16–40 ms)', async () => {
    // `<title[^>]*>` ran from each `<title` over every later one to the next `>`: quadratic in
    // a body of `<title` repeated, 16 KiB of it read for each refused push.
    await expectLinear(HTML_TITLE);
    const page = `<html>${'<TITLE'.repeat(2700)}<><title>502 Bad Gateway</title>`;
    expect(bodyReason(page, 'text/html')).to.equal('502 Bad Gateway');
  });

  it('reads a title that has attributes, entities and line breaks', () => {
    const page =
      '<!DOCTYPE html><html><head><title lang="en">\n 503 &amp; down\n</title></head></html>';
    expect(bodyReason(page, '')).to.equal('503 & down');
    expect(bodyReason('<html><title>a<b>c</title>', 'text/html')).to.equal(undefined);
  });
});
