import { expect } from 'chai';
import {
  joinedUrl,
  lacksVersionSegment,
  splitBaseUrl,
  TRAILING_SLASHES,
} from '../../src/base-url.js';
import { loadSettings } from '../../src/settings.js';
import { expectLinear } from '../helpers/linear-pattern.js';

describe('base URL: a path appended before its own query', () => {
  it("puts the path after the base's path and the query after the base's own", () => {
    expect(joinedUrl('http://p.example/v3/?token=K&org=1#top', '/latest', 'zone=DE')).to.equal(
      'http://p.example/v3/latest?token=K&org=1&zone=DE',
    );
    expect(joinedUrl('http://p.example//', '/api/v1/query')).to.equal(
      'http://p.example/api/v1/query',
    );
    expect(splitBaseUrl('http://p.example/v3?')).to.deep.equal({
      base: 'http://p.example/v3',
      query: '',
    });
  });

  it('takes the trailing slashes off in linear time (16 K of slashes took 196 ms)', async () => {
    // splitBaseUrl is the library's own export: a caller may pass it any text. `\/+$` ran from
    // each slash of a run to its end: 196 ms at 16 KiB of slashes then `x/`, 2.5 s at 64 KiB.
    await expectLinear(TRAILING_SLASHES);
    const slashes = '/'.repeat(64 * 1024);
    expect(splitBaseUrl(`http://p.example${slashes}x/`).base).to.equal(
      `http://p.example${slashes}x`,
    );
    for (const [url, base] of [
      ['http://p.example/v3///', 'http://p.example/v3'],
      ['http://p.example', 'http://p.example'],
      ['///', ''],
      ['', ''],
    ]) {
      expect(splitBaseUrl(url).base, url).to.equal(base);
    }
  });

  // The settings took the trailing slashes off the whole URL, query included: a proxy's token
  // that ends in '/' (base64 may) lost it, and every call was refused as unauthorised.
  it("keeps ELECTRICITY_MAPS_BASE_URL's query as written, a trailing '/' included", () => {
    const { grid } = loadSettings({ ELECTRICITY_MAPS_BASE_URL: 'https://p.example/v3/?token=ab/' });
    expect(joinedUrl(grid.baseUrl, '/carbon-intensity/latest')).to.equal(
      'https://p.example/v3/carbon-intensity/latest?token=ab/',
    );
  });

  // Electricity Maps' API is under /v3: without it every zone was answered 404 (see the client).
  it('tells a base URL whose path names no API version', () => {
    for (const url of [
      'https://api.electricitymap.org',
      'https://api.electricitymaps.com/',
      'https://proxy.example/electricitymaps?v3=1',
      'https://proxy.example/v3x/',
    ]) {
      expect(lacksVersionSegment(url), url).to.equal(true);
    }
    for (const url of [
      'https://api.electricitymaps.com/v3',
      'https://api.electricitymaps.com/V3/',
      'https://proxy.example/em/v4?token=K',
      'not a url',
    ]) {
      expect(lacksVersionSegment(url), url).to.equal(false);
    }
  });
});
