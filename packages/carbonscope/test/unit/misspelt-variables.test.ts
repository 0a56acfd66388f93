import { expect } from 'chai';
import {
  LIBRARY_VARIABLES,
  misspeltVariables,
  misspeltVariablesWarning,
} from '../../src/misspelt-variables.js';

describe('misspelt carbonscope variables', () => {
  // Each was ignored in silence: ENERGY_SOUCE=rapl ran the estimate as if it had been read.
  for (const [given, meant] of [
    ['ENERGY_SOUCE', 'ENERGY_SOURCE'],
    ['CARBON_ZONES', 'CARBON_ZONE'],
    ['PUE_', 'PUE'],
    ['energy_source', 'ENERGY_SOURCE'],
    ['EMBODIED_KGCO2', 'EMBODIED_KGCO2E'],
    ['GRID_CACHE_TTL', 'GRID_CACHE_TTL_SECONDS'],
    ['GRID_TIMEOUT', 'GRID_TIMEOUT_MS'],
    ['ELECTRICITY_MAPS_KEY', 'ELECTRICITY_MAPS_API_KEY'],
    ['CARBONSCOPE_ENERGY_SOURCE', 'ENERGY_SOURCE'],
    ['CARBONSCOPE_LOGLEVEL', 'CARBONSCOPE_LOG_LEVEL'],
  ] as const) {
    it(`names ${given} and the ${meant} it likely meant`, () => {
      expect(misspeltVariables({ [given]: 'x' }, LIBRARY_VARIABLES)).to.deep.equal([
        { given, meant },
      ]);
    });
  }

  // The environment is the host's: its own variables near carbonscope's are no typos.
  it("names none of the host's own, nor the OTel SDK's, nor those it reads, nor its tools'", () => {
    const env = {
      NODE_NAME: 'n1',
      CONTAINER_IMAGE: 'app:1',
      CONTAINER_ID: 'abc',
      POD_IP: '10.0.0.1',
      PORT: '8001',
      PATH: '/bin',
      NODE_ENV: 'production',
      OTEL_EXPORTER_OTLP_ENDPONT: 'http://x',
      ENERGY_SOURCE: 'rapl',
      CARBONSCOPE_LOG_LEVEL: 'debug',
      CARBONSCOPE_CLUSTER_PRIMARY: '1',
      ELECTRICITY_MAP_API_KEY: 'k',
      // The repository's own tools' and test runs'.
      CARBONSCOPE_SUITES_TMPDIR: '/tmp/x',
      CARBONSCOPE_CACHE_DIR: '/tmp/c',
    };
    expect(misspeltVariables(env, LIBRARY_VARIABLES)).to.deep.equal([]);
  });

  it('tells them in one line, by name only: the value may be a key', () => {
    const line = misspeltVariablesWarning({
      ENERGY_SOUCE: 'rapl',
      ELECTRICITY_MAPS_KEY: 'sekrit-key-123',
      PATH: '/bin',
    });
    expect(line).to.equal(
      'ENERGY_SOUCE (did you mean ENERGY_SOURCE?), ELECTRICITY_MAPS_KEY (did you mean ' +
        'ELECTRICITY_MAPS_API_KEY?) are not variables carbonscope reads: they are ignored',
    );
    expect(misspeltVariablesWarning({ GRID_TIMEOUT: '9' })).to.equal(
      'GRID_TIMEOUT (did you mean GRID_TIMEOUT_MS?) is not a variable carbonscope reads: it is ignored',
    );
    expect(misspeltVariablesWarning({ PATH: '/bin' })).to.equal(undefined);
  });

  it('takes the names the caller reads besides (the service its own)', () => {
    const known = [...LIBRARY_VARIABLES, 'LLM_MODEL'];
    expect(misspeltVariables({ LLM_MODLE: 'x', LLM_MODEL: 'y' }, known)).to.deep.equal([
      { given: 'LLM_MODLE', meant: 'LLM_MODEL' },
    ]);
  });
});
