import { expect } from 'chai';
import { joinedUrl, splitBaseUrl } from '../../src/base-url.js';
import { loadSettings } from '../../src/settings.js';

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

  // The settings took the trailing slashes off the whole URL, query included: a proxy's token
  // that ends in '/' (base64 may) lost it, and every call was refused as unauthorised.
  it("keeps ELECTRICITY_MAPS_BASE_URL's query as written, a trailing '/' included", () => {
    const { grid } = loadSettings({ ELECTRICITY_MAPS_BASE_URL: 'https://p.example/v3/?token=ab/' });
    expect(joinedUrl(grid.baseUrl, '/carbon-intensity/latest')).to.equal(
      'https://p.example/v3/carbon-intensity/latest?token=ab/',
    );
  });
});
