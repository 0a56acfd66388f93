import { expect } from 'chai';
import { listenUrl } from '../../../src/http/listen-messages.js';

describe('listenUrl', () => {
  it('writes an IPv6 address in brackets, so the logged URL can be opened', () => {
    // http://::1:8001 is no URL: the address and the port ran together.
    expect(listenUrl('::1', 8001)).to.equal('http://[::1]:8001');
    expect(listenUrl('::', 8001)).to.equal('http://[::]:8001');
    expect(new URL(listenUrl('::1', 8001)).port).to.equal('8001');
  });

  it('leaves IPv4 addresses and names as they are', () => {
    expect(listenUrl('0.0.0.0', 8001)).to.equal('http://0.0.0.0:8001');
    expect(listenUrl('localhost', 8001)).to.equal('http://localhost:8001');
  });
});
