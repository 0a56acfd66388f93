import { expect } from 'chai';
import { listenFailure, listenUrl } from '../../../src/http/listen-messages.js';

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

describe('listenFailure', () => {
  const target = { host: 'nohost.invalid', port: 8001, portVariable: 'PORT' };
  const failed = (code: string, message: string) =>
    listenFailure(Object.assign(new Error(message), { code }), target);

  // A HOST that names no address ended in Node's 'getaddrinfo ENOTFOUND', naming no setting.
  it('names HOST when the host cannot be resolved', () => {
    expect(failed('ENOTFOUND', 'getaddrinfo ENOTFOUND nohost.invalid')).to.equal(
      'address nohost.invalid cannot be resolved: set HOST to an address of this machine',
    );
  });

  // HOST=[::1], as a URL writes it: the line told to set HOST to an address of this machine,
  // which ::1 is; the brackets were what the resolver could not read.
  it('says to drop the brackets of an IPv6 HOST written as a URL writes it', () => {
    const bracketed = { ...target, host: '[::1]' };
    const err = Object.assign(new Error('getaddrinfo ENOTFOUND [::1]'), { code: 'ENOTFOUND' });
    expect(listenFailure(err, bracketed)).to.equal(
      'address [::1] cannot be resolved: write it without brackets (HOST=::1)',
    );
  });

  it('names the port variable when the port is taken', () => {
    expect(failed('EADDRINUSE', 'listen EADDRINUSE')).to.equal(
      'port 8001 is in use: stop the other process or set PORT',
    );
  });

  it('brackets an IPv6 host, so the port does not run into the address', () => {
    const err = Object.assign(new Error('listen EINVAL: invalid argument'), { code: 'EINVAL' });
    const target = { host: 'fe80::1', port: 8001, portVariable: 'PORT' };
    expect(listenFailure(err, target)).to.equal(
      'could not listen on [fe80::1]:8001: listen EINVAL: invalid argument',
    );
    expect(listenFailure(err, { ...target, host: '127.0.0.1' })).to.equal(
      'could not listen on 127.0.0.1:8001: listen EINVAL: invalid argument',
    );
  });
});
