import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { expect } from 'chai';
import {
  LIBRARY_VARIABLES,
  misspeltVariables,
  misspeltVariablesWarning,
} from '../../src/misspelt-variables.js';
import { OTEL_SDK_VARIABLES, OTEL_VARIABLES_READ } from '../../src/otel-variables.js';

/** Every OTEL_* name in the built code of the installed @opentelemetry packages. */
function installedOtelNames(): string[] {
  // The API's entry, node_modules/@opentelemetry/api/build/src/index.js: its scope's folder.
  const api = createRequire(import.meta.url).resolve('@opentelemetry/api');
  const scope = api.slice(0, api.lastIndexOf(`${sep}api${sep}build${sep}`));
  const names = new Set<string>();
  const read = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) read(path);
      else if (entry.name.endsWith('.js') && path.includes(`${sep}build${sep}src${sep}`)) {
        for (const [name] of readFileSync(path, 'utf8').matchAll(/\bOTEL_[A-Z0-9_]+/g)) {
          names.add(name);
        }
      }
    }
  };
  read(scope);
  return [...names];
}

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
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '5000',
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

  // A bare word is no slip of a name of two: podman, LXC and systemd-nspawn set container=podman
  // in every container, and CARBON, ENERGY or GRID are anyone's. Each was told at every start.
  it('names no one-word variable after a setting of that first word', () => {
    const env = Object.fromEntries(
      [
        'container',
        'CONTAINER',
        'pod',
        'POD',
        'CARBON',
        'ENERGY',
        'GRID',
        'EMBODIED',
        'KEPLER',
      ].map((name) => [name, 'x']),
    );
    expect(misspeltVariables(env, LIBRARY_VARIABLES)).to.deep.equal([]);
    expect(misspeltVariables({ LLM: 'x' }, [...LIBRARY_VARIABLES, 'LLM_MODEL'])).to.deep.equal([]);
  });

  // Kubernetes gives every pod <SERVICE>_SERVICE_HOST, <SERVICE>_PORT and <SERVICE>_PORT_<n>_TCP*
  // for each Service of its namespace: a Service named carbonscope made CARBONSCOPE_PORT a slip
  // of the service's PORT, told at every start of every pod.
  it("names none of Kubernetes' service links, whatever the Service's name", () => {
    const links = (service: string) => ({
      [`${service}_SERVICE_HOST`]: '10.0.0.7',
      [`${service}_SERVICE_PORT`]: '3000',
      [`${service}_SERVICE_PORT_HTTP`]: '3000',
      [`${service}_PORT`]: 'tcp://10.0.0.7:3000',
      [`${service}_PORT_3000_TCP`]: 'tcp://10.0.0.7:3000',
      [`${service}_PORT_3000_TCP_ADDR`]: '10.0.0.7',
      [`${service}_PORT_3000_TCP_PORT`]: '3000',
      [`${service}_PORT_3000_TCP_PROTO`]: 'tcp',
    });
    const env = { ...links('CARBONSCOPE'), ...links('GRID'), ...links('ENERGY_SOURCES') };
    expect(misspeltVariables(env, [...LIBRARY_VARIABLES, 'PORT', 'HOST'])).to.deep.equal([]);
    // Docker's links (--link, compose's links:) give <ALIAS>_PORT_<n>_TCP* and no _SERVICE_HOST.
    const docker = {
      CARBONSCOPE_NAME: '/app/carbonscope',
      CARBONSCOPE_PORT: 'tcp://172.17.0.3:3000',
      CARBONSCOPE_PORT_3000_TCP: 'tcp://172.17.0.3:3000',
      CARBONSCOPE_PORT_3000_TCP_ADDR: '172.17.0.3',
      CARBONSCOPE_PORT_3000_TCP_PORT: '3000',
      CARBONSCOPE_PORT_3000_TCP_PROTO: 'tcp',
      CARBONSCOPE_ENV_PUE: '1.2',
    };
    expect(misspeltVariables(docker, [...LIBRARY_VARIABLES, 'PORT', 'HOST'])).to.deep.equal([]);
    // Without the Service's host it is no link: CARBONSCOPE_PORT alone is still told.
    expect(misspeltVariables({ CARBONSCOPE_PORT: '3000' }, ['PORT'])).to.deep.equal([
      { given: 'CARBONSCOPE_PORT', meant: 'PORT' },
    ]);
  });

  // The OTel SDK ignores a misspelt variable without a word, as carbonscope did: the metrics went
  // on to localhost:4318 or at the default 60 s, while their author believed them set.
  for (const [given, meant] of [
    ['OTEL_EXPORTER_OTLP_ENDPONT', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    ['OTEL_EXPORTER_OTLP_METRIC_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'],
    ['OTEL_METRICS_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_INTERVAL'],
    ['OTEL_METRIC_EXPORTER', 'OTEL_METRICS_EXPORTER'],
    ['OTEL_METRICS_EXPORT_INTERVALL', 'OTEL_METRIC_EXPORT_INTERVAL'],
    ['OTEL_EXPORTER_PROMETHEUS_PORTS', 'OTEL_EXPORTER_PROMETHEUS_PORT'],
    ['OTEL_RESOURCE_ATTRIBUTE', 'OTEL_RESOURCE_ATTRIBUTES'],
    ['otel_metrics_exporter', 'OTEL_METRICS_EXPORTER'],
    ['OTEL_INSTRUMENTATION_HTTP_KNOWN_METHOD', 'OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS'],
  ] as const) {
    it(`names ${given} and the ${meant} it likely meant`, () => {
      expect(misspeltVariables({ [given]: 'x' }, LIBRARY_VARIABLES)).to.deep.equal([
        { given, meant },
      ]);
    });
  }

  // Users set many OTEL_* variables carbonscope does not read, some a few letters from its own
  // (OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, OTEL_EXPORTER_OTLP_METRIC_INSECURE): none is a slip.
  it('names none of the OTEL_* variables the installed OTel JS SDK reads, nor the spec', () => {
    const installed = installedOtelNames();
    // The SDK's own, not only the constants' prefixes: the scan found what it looks for.
    expect(installed).to.include.members(['OTEL_BSP_SCHEDULE_DELAY', 'OTEL_TRACES_SAMPLER']);
    const env = Object.fromEntries(
      [...installed, ...OTEL_SDK_VARIABLES, ...OTEL_VARIABLES_READ].map((name) => [name, 'x']),
    );
    expect(misspeltVariables(env, LIBRARY_VARIABLES)).to.deep.equal([]);
    // Other languages' own and a name nearer an SDK's than carbonscope's are theirs.
    const others = {
      OTEL_PYTHON_LOG_CORRELATION: 'true',
      OTEL_DOTNET_AUTO_TRACES_ENABLED: 'true',
      OTEL_JAVAAGENT_ENABLED: 'true',
      OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_REQUEST_HEADERS: 'x',
      OTEL_TRACES_EXPORTR: 'otlp',
      OTEL_EXPORTER_OTLP_LOG_ENDPOINT: 'http://x',
      OTEL_SERVICE_NAMESPACE: 'shop',
      // Kubernetes' links of a Service named otel-collector.
      OTEL_COLLECTOR_SERVICE_HOST: '10.0.0.9',
      OTEL_COLLECTOR_PORT: 'tcp://10.0.0.9:4318',
      OTEL_COLLECTOR_PORT_4318_TCP_PORT: '4318',
    };
    expect(misspeltVariables(others, LIBRARY_VARIABLES)).to.deep.equal([]);
  });

  // Windows reads a variable's name in any case (process.env.ENERGY_SOURCE finds Energy_Source):
  // there the other case is in effect, and "it is ignored" was false.
  it('names no other case of a setting where the environment answers to its name', () => {
    const windows = (vars: Record<string, string>) =>
      new Proxy(vars, {
        get: (target, key) =>
          typeof key === 'string'
            ? Object.entries(target).find(([name]) => name.toUpperCase() === key.toUpperCase())?.[1]
            : undefined,
      });
    const env = windows({ Energy_Source: 'rapl', pue: '1.2', ENERGY_SOUCE: 'x' });
    expect(misspeltVariables(env, LIBRARY_VARIABLES)).to.deep.equal([
      { given: 'ENERGY_SOUCE', meant: 'ENERGY_SOURCE' },
    ]);
  });

  // Hundreds of names near one (a generated environment) made a line of 18,000 characters.
  it('names ten at most in its line, and counts the rest', () => {
    const letter = (n: number) => String.fromCharCode(65 + (n % 26));
    const env = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`ENERGY_SOURC${letter(i)}${letter(i / 26)}`, 'x']),
    );
    const line = misspeltVariablesWarning(env) ?? '';
    expect(line.match(/did you mean/g)).to.have.length(10);
    expect(line).to.match(/ENERGY_SOURCJA \(did you mean ENERGY_SOURCE\?\) and 390 more are not /);
    expect(line.length).to.be.below(600);
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
