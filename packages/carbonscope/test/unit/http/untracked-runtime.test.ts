import { expect } from 'chai';
import { start, stop } from '../../../src/api.js';
import { untrackedRequests } from '../../../src/http/untracked-runtime.js';
import { memoryLogger } from '../energy/scripted.js';

// Under Bun 1.4.5, 40 requests served by node:http, Express 5 or Bun.serve counted 0 under
// `bun --preload carbonscope/register`, and 0 of 20 under start().trackRequests({ servers }),
// with no word: Bun publishes none of the http.server channels carbonscope reads. Deno.serve's
// 40 counted 0 likewise (Deno's node:http counted all 40).
const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;

/** Runs `body` with `process.versions` naming `runtime` too, as Bun's and Deno's do. */
async function posingAs(runtime: 'bun' | 'deno', body: () => Promise<void>): Promise<void> {
  Object.defineProperty(process.versions, runtime, { value: '9.9.9', configurable: true });
  try {
    await body();
  } finally {
    delete (process.versions as Record<string, string | undefined>)[runtime];
  }
}

const warnings = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.level === 40).map((l) => String(l.msg));

describe('http: requests a runtime other than Node serves unseen', () => {
  afterEach(() => stop());

  it('trackRequests() under Bun says once, at its start, that no request is counted', async () => {
    const { logger, lines } = memoryLogger();
    await posingAs('bun', async () => {
      (await start({ env: ENV, logger })).trackRequests();
      await stop();
      // A second instance after the stop: the process was told.
      (await start({ env: ENV, logger })).trackRequests();
    });
    const said = warnings(lines).filter((w) => w.includes('diagnostics channel'));
    expect(said).to.deep.equal([
      'Bun 9.9.9 publishes no http.server diagnostics channel: no HTTP request is tracked ' +
        '(node:http, Express, Bun.serve alike); the process, track(), measure() and begin() ' +
        'are measured. Serve on Node or Deno to count requests',
    ]);
  });

  it("names Deno.serve's requests as the ones Deno serves uncounted", () => {
    expect(untrackedRequests({ deno: '2.9.6' })).to.equal(
      'under Deno 2.9.6 the requests of node:http servers (Express, Fastify…) are tracked, ' +
        'not those of Deno.serve, which publishes no http.server diagnostics channel',
    );
  });

  it('says nothing under Node', async () => {
    expect(untrackedRequests(process.versions)).to.equal(undefined);
    const { logger, lines } = memoryLogger();
    (await start({ env: ENV, logger })).trackRequests();
    expect(warnings(lines)).to.deep.equal([]);
  });
});
