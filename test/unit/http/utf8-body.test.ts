import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { BodyBytes } from '../../../src/http/utf8-body.js';

const LIMIT = 1024;

/** A BodyBytes that has kept `chunks` as a request's body brought them. */
async function kept(chunks: Buffer[]): Promise<BodyBytes> {
  const body = new PassThrough();
  const bytes = new BodyBytes();
  bytes.start(body as unknown as IncomingMessage);
  for (const chunk of chunks) body.write(chunk);
  body.end();
  await turn();
  return bytes;
}

describe('BodyBytes', () => {
  it("tells a Latin-1 body from UTF-8 where the parser's text holds U+FFFD", async () => {
    const bytes = await kept([Buffer.from('caf\u00e9', 'latin1')]);
    expect(bytes.notUtf8('caf\uFFFD', undefined, LIMIT)).to.equal(true);
  });

  it('serves U+FFFD sent as UTF-8, and a character cut between two chunks', async () => {
    const emoji = Buffer.from('\uFFFD \u{1F697}');
    const bytes = await kept([emoji.subarray(0, 6), emoji.subarray(6)]);
    expect(bytes.notUtf8('\uFFFD \u{1F697}', undefined, LIMIT)).to.equal(false);
  });

  it('reads a gzip body decompressed', async () => {
    const bytes = await kept([gzipSync(Buffer.from('caf\u00e9', 'latin1'))]);
    expect(bytes.notUtf8('caf\uFFFD', 'gzip', LIMIT)).to.equal(true);
  });

  // It lives as long as the request: kept on, the bytes doubled what a chat held while the LLM
  // answered.
  it('lets go of the bytes it kept once stopped', async () => {
    const bytes = await kept([Buffer.from('caf\u00e9', 'latin1')]);
    bytes.stop();
    expect(bytes.notUtf8('caf\uFFFD', undefined, LIMIT), 'nothing kept to examine').to.equal(false);
  });
});
