import { expect } from 'chai';
import { pino } from 'pino';
import { MAX_RATE_LIMIT_HOLD_MS } from '../../../src/grid/electricity-maps-client.js';
import { FileHostShare, hostShareDir } from '../../../src/grid/host-share/index.js';
import { createGridIntensity } from '../../../src/grid/index.js';
import { loadSettings } from '../../../src/settings.js';
import { StubElectricityMaps } from '../../fixtures/grid/stub-electricity-maps.js';
import { tempDirUntilExit } from '../../helpers/temp-dir.js';

const KEY = 'em-host-share-key-7f1c';

describe('grid: two services sharing one host folder', () => {
  const stub = new StubElectricityMaps(KEY);
  let dir: string;

  before(() => stub.start());
  after(() => stub.close());
  beforeEach(() => {
    stub.reset();
    dir = hostShareDir(tempDirUntilExit('carbonscope-share-service-'));
  });

  function service() {
    const config = loadSettings({
      ELECTRICITY_MAPS_API_KEY: KEY,
      ELECTRICITY_MAPS_BASE_URL: stub.url,
      CARBON_ZONE: 'DE',
    });
    const share = new FileHostShare({
      dir,
      baseUrl: stub.url,
      apiKey: KEY,
      now: Date.now,
      maxHoldMs: MAX_RATE_LIMIT_HOLD_MS,
      lockStaleMs: 10_000,
    });
    return createGridIntensity({ config, logger: pino({ level: 'silent' }), share });
  }

  it("takes the other's history and latest value rather than call again", async () => {
    stub.historyEnd = Date.now;
    const [a, b] = [service(), service()];
    const mine = await a.history('DE');
    const theirs = await b.history('DE');
    expect(theirs.history).to.have.length.above(0);
    expect(theirs.history).to.deep.equal(mine.history);
    expect(theirs.stale).to.equal(false);
    await a.current('DE');
    expect((await b.current('DE')).source).to.equal('electricity-maps');
    expect(stub.callsTo('/carbon-intensity/history')).to.have.length(1);
    expect(stub.callsTo('/carbon-intensity/latest')).to.have.length(1);
  });

  it('does not take a value of another key or base URL', async () => {
    await service().current('DE');
    const config = loadSettings({
      ELECTRICITY_MAPS_API_KEY: KEY,
      ELECTRICITY_MAPS_BASE_URL: `${stub.url}/`,
      CARBON_ZONE: 'DE',
    });
    const other = new FileHostShare({
      dir,
      baseUrl: `${stub.url}/`,
      apiKey: `${KEY}-other`,
      now: Date.now,
      maxHoldMs: MAX_RATE_LIMIT_HOLD_MS,
      lockStaleMs: 10_000,
    });
    const grid = createGridIntensity({ config, logger: pino({ level: 'silent' }), share: other });
    await grid.current('DE');
    expect(stub.callsTo('/carbon-intensity/latest')).to.have.length(2);
  });
});
