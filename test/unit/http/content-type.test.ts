import { expect } from 'chai';
import { charsetOf, mediaTypeProblem } from '../../../src/http/content-type.js';

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

  const PAIRS = 'its parameters must be name=value pairs after ";"';
  const UNCLOSED = 'a quoted parameter value is not closed';
  for (const [type, malformed] of [
    ['application/json; charset', 'parameter charset has no value'],
    ['application/json; charset=', 'parameter charset has no value'],
    ['application/json; Charset=; x=y', 'parameter Charset has no value'],
    ['application/json; charset = utf-8', PAIRS],
    ['application/json; charset="utf-8', UNCLOSED],
    ['application/json; x="a\\"; charset=utf-8', UNCLOSED],
    ['application/json; charset=utf-8"', PAIRS],
    ['application/json; charset=utf-8 x', PAIRS],
    ['application/json; charset=utf-8, text/plain', PAIRS],
    ['application/json; charset=utf-8; CHARSET=utf-8', 'it names a charset twice'],
    ['application/json; charset="\x01"', PAIRS],
  ]) {
    it(`finds ${JSON.stringify(type)} malformed: ${malformed}`, () => {
      expect(charsetOf(type)).to.deep.equal({ malformed });
    });
  }
});

describe('mediaTypeProblem: a Content-Type media type by RFC 9110', () => {
  for (const type of [
    'application/json',
    'application/json; charset=utf-8',
    'application/json ;charset=utf-8',
    'text/plain;',
    'application/vnd.api+json',
    "x-a!#$%&'*+.^_`|~/y-0",
  ]) {
    it(`reads ${JSON.stringify(type)}`, () => {
      expect(mediaTypeProblem(type)).to.equal(undefined);
    });
  }

  for (const type of [
    'json',
    '/json',
    'application/',
    'application/json garbage',
    'application/json, text/plain',
    'application /json',
    '"utf-8',
    '; charset=utf-8',
    'application/json/x',
  ]) {
    it(`finds ${JSON.stringify(type)} malformed`, () => {
      expect(mediaTypeProblem(type)).to.equal('its media type must be type/subtype');
    });
  }
});
