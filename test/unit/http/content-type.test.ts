import { expect } from 'chai';
import { charsetOf } from '../../../src/http/content-type.js';

describe('charsetOf: a Content-Type charset by RFC 9110', () => {
  for (const [type, value] of [
    ['application/json', undefined],
    ['application/json;', undefined],
    ['application/json; ;\t;', undefined],
    ['application/json; boundary=x', undefined],
    ['application/json; CharSet=UTF-8', 'UTF-8'],
    ['application/json;charset="utf-8"', 'utf-8'],
    ['application/json; charset="a\\"b"', 'a"b'],
    ['application/json; charset=""', ''],
    ['text/plain; x="; charset=latin1"; charset=utf-8', 'utf-8'],
    ['application/json; charset="caf\xe9"', 'caf\xe9'],
  ] as const) {
    it(`reads ${JSON.stringify(type)} as charset ${JSON.stringify(value)}`, () => {
      expect(charsetOf(type)).to.deep.equal({ value });
    });
  }

  for (const type of [
    'application/json; charset',
    'application/json; charset=',
    'application/json; charset = utf-8',
    'application/json; charset="utf-8',
    'application/json; charset=utf-8"',
    'application/json; charset=utf-8 x',
    'application/json; charset=utf-8, text/plain',
    'application/json; charset=utf-8; CHARSET=utf-8',
    'application/json; charset="\x01"',
  ]) {
    it(`finds ${JSON.stringify(type)} malformed`, () => {
      expect(charsetOf(type)).to.have.property('malformed').that.is.a('string');
    });
  }
});
