import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { partialSuccessIn } from '../../../../src/otel/sdk/partial-success.js';
import { BODY_READ } from '../../../../src/otel/sdk/refusal-reason.js';

/** An ExportMetricsServiceResponse in protobuf: partial_success { rejected, message }. */
function partialBody(rejected: number, message: string): Buffer {
  const text = Buffer.from(message);
  const inner = Buffer.concat([Buffer.from([0x08, rejected, 0x12, text.length]), text]);
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
}

const PROTO = 'application/x-protobuf';

// A collector's (or a proxy's) answer to a push that got through is whatever it writes: the
// reader runs on every 200 the exporter takes, so a body it cannot read must be no line.
describe("otel: a collector's OTLP partial success, read from a 200's body", () => {
  it('reads the count and the message, in protobuf and in JSON of either naming', () => {
    const told = { rejected: 3, message: 'out of order' };
    expect(partialSuccessIn(partialBody(3, 'out of order'), PROTO)).to.deep.equal(told);
    const snake = { partial_success: { rejected_data_points: '3', error_message: 'out of order' } };
    expect(partialSuccessIn(Buffer.from(JSON.stringify(snake)), 'application/json')).to.deep.equal(
      told,
    );
  });

  it('gives nothing where it rejected nothing, or the body is empty', () => {
    expect(partialSuccessIn(partialBody(0, 'fine'), PROTO)).to.equal(undefined);
    expect(partialSuccessIn(Buffer.alloc(0), PROTO)).to.equal(undefined);
    expect(partialSuccessIn(Buffer.from('{}'), 'application/json')).to.equal(undefined);
  });

  for (const [what, body, type] of [
    // The exporter asks for no encoding; a proxy that gzips anyway gives bytes no reader takes.
    ['a gzip-compressed answer', gzipSync(partialBody(3, 'out of order')), PROTO],
    ['a proxy page', Buffer.from('<html><title>OK</title></html>'), 'text/html'],
    ['a plain OK', Buffer.from('OK'), ''],
    ['JSON cut short', Buffer.from('{"partialSuccess":{"rejectedDataPoints":'), 'application/json'],
    [
      'a count that is no integer',
      Buffer.from('{"partialSuccess":{"rejectedDataPoints":"many"}}'),
      'application/json',
    ],
    ['protobuf cut short', partialBody(3, 'out of order').subarray(0, 6), PROTO],
  ] as const) {
    it(`gives nothing, without throwing, for ${what}`, () => {
      expect(partialSuccessIn(body, type)).to.equal(undefined);
    });
  }

  it('reads no further than BODY_READ bytes: a longer message is past their end', () => {
    // A partial success whose message runs past BODY_READ: its length points past what is read.
    const message = Buffer.alloc(BODY_READ, 0x61);
    const inner = Buffer.concat([Buffer.from([0x08, 3, 0x12, 0x80, 0x80, 0x01]), message]);
    const body = Buffer.concat([Buffer.from([0x0a, 0x86, 0x80, 0x01]), inner]);
    expect(partialSuccessIn(body, PROTO)).to.equal(undefined);
  });
});
