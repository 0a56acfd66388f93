import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadCatalog } from '../../../src/llm/catalog.js';
import type { Range, ValueOrRange } from '../../../src/llm/impacts.js';
import { type ImpactsOutput, llmImpacts } from '../../../src/llm/llm-impacts.js';
import type { StatusMessage } from '../../../src/llm/status.js';
import { libraryRoot } from '../../../src/paths.js';

/** Vectors written by the real Python package (npm run ecologits:data), read without Python. */
interface VectorFile {
  source: string;
  units: Record<string, string>;
  warnings: Record<string, string>;
  vectors: Vector[];
}

type Values = Record<string, ValueOrRange>;

interface Vector {
  provider: string;
  model: string;
  outputTokens: number;
  latency: number | null;
  zone: string | null;
  expected: Values & {
    usage?: Values;
    embodied?: Values;
    warnings: string[] | null;
    errors: StatusMessage[] | null;
  };
}

const TOLERANCE = 1e-9;
const CRITERIA = ['energy', 'gwp', 'adpe', 'pe', 'wcf'];
const file = join(libraryRoot, 'test', 'fixtures', 'llm', 'ecologits-vectors.json');
const data = JSON.parse(readFileSync(file, 'utf8')) as VectorFile;
const catalog = loadCatalog();

const relativeError = (a: number, b: number) =>
  a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));

/** Differences between one vector and carbonscope's output; empty when they agree. */
function compare(v: Vector, out: ImpactsOutput, worst: { error: number }): string[] {
  const problems: string[] = [];
  const e = v.expected;
  const check = (path: string, want: ValueOrRange | undefined, got: unknown, unit: unknown) => {
    if (want === undefined) {
      problems.push(`${path}: not expected, got one`);
      return;
    }
    if (unit !== data.units[path.split('.').at(-1) ?? '']) problems.push(`${path}: unit ${unit}`);
    const pairs: Array<[number, unknown]> =
      typeof want === 'number'
        ? [[want, got]]
        : typeof got === 'object' && got !== null
          ? [
              [want.min, (got as Range).min],
              [want.max, (got as Range).max],
            ]
          : [[Number.NaN, got]];
    if (typeof want !== typeof got) problems.push(`${path}: shape ${JSON.stringify(got)}`);
    for (const [w, g] of pairs) {
      const error = typeof g === 'number' ? relativeError(w, g) : Number.POSITIVE_INFINITY;
      worst.error = Math.max(worst.error, error);
      if (!(error <= TOLERANCE)) problems.push(`${path}: ${g} instead of ${w}`);
    }
  };

  if (JSON.stringify(out.errors) !== JSON.stringify(e.errors))
    return [`errors ${JSON.stringify(out.errors)}`];
  if (e.errors) {
    if (out.warnings !== null) problems.push('warnings: expected null');
    for (const k of [...CRITERIA, 'usage', 'embodied'] as const) {
      if (out[k as keyof ImpactsOutput] !== null) problems.push(`${k}: expected null`);
    }
    return problems;
  }
  if (out.errors !== null) return problems;
  const codes = out.warnings?.map((w) => w.code) ?? null;
  if (JSON.stringify(codes) !== JSON.stringify(e.warnings))
    problems.push(`warnings ${JSON.stringify(codes)}`);
  for (const w of out.warnings ?? []) {
    if (w.message !== data.warnings[w.code]) problems.push(`warning ${w.code}: "${w.message}"`);
  }
  for (const k of CRITERIA) {
    const impact = out[k as 'energy'];
    check(k, e[k], impact.value, impact.unit);
  }
  for (const phase of ['usage', 'embodied'] as const) {
    const want = e[phase] ?? {};
    const got = out[phase] as Record<string, { value: ValueOrRange; unit: string }>;
    if (Object.keys(got).sort().join() !== Object.keys(want).sort().join())
      problems.push(`${phase}: criteria ${Object.keys(got)}`);
    for (const [k, impact] of Object.entries(got)) {
      check(`${phase}.${k}`, want[k], impact.value, impact.unit);
    }
  }
  return problems;
}

describe('EcoLogits 0.11.3 conformance (vectors from the Python package)', () => {
  it('the vectors cover every catalog model and zone, both error codes and every warning', () => {
    expect(data.source).to.match(/^ecologits 0\.11\.3 /);
    const models = new Set(data.vectors.map((v) => `${v.provider}/${v.model}`));
    for (const id of catalog.modelIds()) expect(models.has(id), id).to.equal(true);
    const zones = new Set(data.vectors.map((v) => v.zone));
    for (const zone of catalog.zones()) expect(zones.has(zone), zone).to.equal(true);
    const errors = new Set(data.vectors.flatMap((v) => v.expected.errors ?? []).map((e) => e.code));
    expect([...errors].sort()).to.deep.equal(['model-not-registered', 'zone-not-registered']);
    const warnings = new Set(data.vectors.flatMap((v) => v.expected.warnings ?? []));
    expect([...warnings].sort()).to.deep.equal(Object.keys(data.warnings).sort());
    expect(data.vectors.some((v) => v.latency === null)).to.equal(true);
  });

  it(`every vector: same figures within ${TOLERANCE} relative, same shape, warnings and errors`, () => {
    const worst = { error: 0 };
    const failures: string[] = [];
    for (const v of data.vectors) {
      const out = llmImpacts(catalog, {
        provider: v.provider,
        model: v.model,
        outputTokens: v.outputTokens,
        requestLatencySeconds: v.latency ?? undefined,
        zone: v.zone ?? undefined,
      });
      const problems = compare(v, out, worst);
      if (problems.length) {
        const at = `${v.provider}/${v.model} tokens=${v.outputTokens} latency=${v.latency} zone=${v.zone}`;
        failures.push(`${at}: ${problems.join('; ')}`);
      }
    }
    expect(
      failures.slice(0, 10),
      `${failures.length} of ${data.vectors.length} differ`,
    ).to.deep.equal([]);
    expect(data.vectors.length).to.be.greaterThan(2000);
    expect(worst.error).to.be.at.most(TOLERANCE);
  });
});
