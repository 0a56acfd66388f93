import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';
import { inTelemetryChild } from '../../helpers/telemetry-child.js';

/**
 * The OTel packages the app's telemetry loaded with `env`, each as the directory it was loaded
 * from. The OTel packages are CommonJS (no `exports`, a CJS `main`), so every one the app loads
 * is in the CJS module cache.
 */
async function loadedOtelPackages(env: Record<string, string>): Promise<string[]> {
  const dirs = await inTelemetryChild<string[]>(
    env,
    `const { createRequire } = await import('node:module');
     const dirs = new Set();
     for (const file of Object.keys(createRequire(import.meta.url).cache)) {
       const m = /^(.*node_modules[\\/]@opentelemetry[\\/][^\\/]+)[\\/]/.exec(file);
       if (m) dirs.add(m[1]);
     }
     return [...dirs];`,
  );
  return dirs.map((dir) => dir.slice(projectRoot.length));
}

const nameOf = (dir: string) => dir.slice(dir.lastIndexOf('@opentelemetry'));

function copiesByName(dirs: string[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const dir of dirs) byName.set(nameOf(dir), [...(byName.get(nameOf(dir)) ?? []), dir]);
  return byName;
}

describe('the OTel packages the app loads', function () {
  this.timeout(40_000);

  for (const [label, env] of [
    ['tracing off (the default)', { OTEL_TRACES_EXPORTER: 'none' }],
    ['tracing on', { OTEL_TRACES_EXPORTER: 'console' }],
    // The OTLP span exporter is the app's own (its timeout), beside NodeSDK's: the same copy.
    ['tracing on over OTLP', { OTEL_TRACES_EXPORTER: 'otlp,console' }],
  ] as const) {
    it(`loads one copy of each, ${label}`, async () => {
      const dirs = await loadedOtelPackages(env);
      expect(dirs.length).to.be.greaterThan(3);
      // A package nested under another's node_modules is a second copy of its code (another
      // version): the app loaded five copies of sdk-metrics and fifteen of core this way.
      const twice = [...copiesByName(dirs)].filter(([, copies]) => copies.length > 1);
      expect(twice).to.deep.equal([]);
    });
  }

  // NodeSDK loads every trace and log exporter and propagator it can configure (zipkin, b3,
  // jaeger, OTLP over gRPC...): ~0.4 s and ~7 MiB of heap at start-up for a service that sends
  // no spans.
  const tracingPackages = [
    '@opentelemetry/sdk-node',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/exporter-zipkin',
    '@opentelemetry/sdk-logs',
  ];

  it('loads no tracing or logs SDK with tracing off', async () => {
    // `none,` names no log exporter, as NodeSDK reads the list (its empty item dropped).
    for (const logs of [undefined, 'none,', ' , none']) {
      const env = { OTEL_TRACES_EXPORTER: 'none', ...(logs ? { OTEL_LOGS_EXPORTER: logs } : {}) };
      const names = (await loadedOtelPackages(env)).map(nameOf);
      expect(names, String(logs)).to.include('@opentelemetry/sdk-metrics');
      expect(
        names.filter((n) => tracingPackages.includes(n)),
        String(logs),
      ).to.deep.equal([]);
    }
  });

  it('loads NodeSDK with tracing on, or a log exporter, or OTEL_SDK_DISABLED', async () => {
    const envs: Array<Record<string, string>> = [
      { OTEL_TRACES_EXPORTER: 'console' },
      { OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'console' },
      { OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: 'true' },
    ];
    for (const env of envs) {
      const names = (await loadedOtelPackages(env)).map(nameOf);
      expect(names, JSON.stringify(env)).to.include('@opentelemetry/sdk-node');
    }
  });
});
