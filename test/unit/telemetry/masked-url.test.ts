import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { maskedUrl } from '../../../src/telemetry/sdk.js';

const attributesOf = (url: string) => maskedUrl({ url } as IncomingMessage);

describe('span hook: url.path and url.query masked', () => {
  it('masks the userinfo of a URL nested in the path, which has no `;` or `?`', () => {
    expect(attributesOf('/redirect/http://u:PW-s3cret@idp.example/x')).to.deep.equal({
      'url.path': '/redirect/http://[redacted]@idp.example/x',
    });
    expect(attributesOf('/r/http%3A%2F%2Fu%3APW-s3cret%40idp%2F?page=2')).to.deep.equal({
      'url.path': '/r/http%3A%2F%2F[redacted]%40idp%2F',
      'url.query': 'page=2',
    });
  });

  it('adds nothing where nothing is masked', () => {
    for (const url of ['/energy', '/energy?page=2', '/u/@alice', '/img//logo@2x.png?v=1']) {
      expect(attributesOf(url), url).to.equal(attributesOf('/energy'));
    }
  });
});
