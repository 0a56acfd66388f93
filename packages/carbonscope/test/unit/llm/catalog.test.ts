import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadCatalog } from '../../../src/llm/catalog.js';
import { ModelDataError, UnknownModelError, UnknownZoneError } from '../../../src/llm/errors.js';
import { libraryRoot } from '../../../src/paths.js';

const fixture = join(libraryRoot, 'test', 'fixtures', 'llm', 'extra-models.json');

describe('llm catalog (model, provider and mix data)', () => {
  const catalog = loadCatalog();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'carbonscope-llm-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const writeJson = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };

  it('holds every model, provider and mix of the facts sheet', () => {
    expect(catalog.modelNames('openai')).to.include.members([
      'gpt-4o',
      'gpt-4o-mini',
      'o3-mini',
      'gpt-5',
    ]);
    expect(catalog.modelNames('openai')).to.have.length(11);
    expect(catalog.modelNames('anthropic')).to.have.length(6);
    expect(catalog.modelNames('mistralai')).to.have.length(5);
    expect(catalog.zones()).to.have.length(18);
    expect(catalog.model('openai', 'gpt-4o').architecture).to.deep.equal({
      type: 'moe',
      total: 440,
      active: { min: 44, max: 132 },
    });
    expect(catalog.mix('SWE')).to.deep.equal({
      gwp: 0.03582,
      adpe: 7.771e-8,
      pe: 4.7301,
      wue: 6.0315,
    });
    expect(catalog.dataCenter('mistralai')).to.deep.equal({
      zone: 'SWE',
      dataCenter: { pue: 1.16, wueOnsite: 0.09 },
    });
  });

  it('flags proprietary models whose parameter counts are estimates', () => {
    const r = catalog.resolve('openai', 'gpt-4o');
    expect(r.warnings.map((w) => w.code)).to.deep.equal(['model-arch-not-released']);
    expect(catalog.resolve('mistralai', 'open-mistral-7b').warnings).to.deep.equal([]);
  });

  it('an unknown model is an error naming it and the known ones', () => {
    expect(() => catalog.resolve('openai', 'gpt-9000'))
      .to.throw(UnknownModelError, /unknown model "gpt-9000" for provider "openai".*gpt-4o/)
      .with.property('status', 400);
  });

  it('an unknown zone is an error naming it', () => {
    expect(() => catalog.resolve('openai', 'gpt-4o', 'XYZ')).to.throw(UnknownZoneError, /"XYZ"/);
  });

  it('a user-chosen zone overrides the provider zone', () => {
    const r = catalog.resolve('openai', 'gpt-4o', 'NOR');
    expect(r.zone).to.equal('NOR');
    expect(r.mix.gwp).to.equal(0.03075);
    expect(r.dataCenter).to.deep.equal({ pue: 1.2, wueOnsite: 0.569 });
  });

  it('an unknown provider uses the world mix, with a warning, and the known providers envelope', () => {
    const dc = catalog.dataCenter('someone-else');
    expect(dc.zone).to.equal('WOR');
    expect(dc.dataCenter).to.deep.equal({
      pue: { min: 1.09, max: 1.2 },
      wueOnsite: { min: 0.09, max: 0.999 },
    });
    expect(dc.warning?.code).to.equal('provider-unknown');
    expect(dc.warning?.message).to.include('someone-else');
  });

  it("merges a user's models file: new providers, new models, and the provider's data centre", () => {
    const merged = loadCatalog({ modelsFile: fixture });
    expect(merged.modelNames('openai')).to.include('my-finetune');
    expect(merged.modelNames('openai')).to.include('gpt-4o');
    const r = merged.resolve('acme', 'acme-chat-1');
    expect(r.zone).to.equal('FRA');
    expect(r.dataCenter).to.deep.equal({ pue: 1.1, wueOnsite: 0.2 });
    expect(r.warnings).to.deep.equal([]);
  });

  it('accepts a bare array of models; an unknown provider there gets the WOR warning', () => {
    const path = writeJson('bare.json', [
      { provider: 'acme2', name: 'tiny', architecture: 'dense', parameters: { min: 1, max: 3 } },
    ]);
    const r = loadCatalog({ modelsFile: path }).resolve('acme2', 'tiny');
    expect(r.zone).to.equal('WOR');
    expect(r.warnings.map((w) => w.code)).to.deep.equal(['provider-unknown']);
  });

  const badFiles: Array<[string, unknown, RegExp]> = [
    [
      'a negative parameter count',
      {
        models: [
          { provider: 'acme', name: 'ok', architecture: 'dense', parameters: 3 },
          { provider: 'acme', name: 'bad', architecture: 'dense', parameters: -3 },
        ],
      },
      /models\[1\] \(acme\/bad\): parameters/,
    ],
    [
      'a range with min above max',
      {
        models: [
          {
            provider: 'acme',
            name: 'upside',
            architecture: 'dense',
            parameters: { min: 9, max: 3 },
          },
        ],
      },
      /models\[0\] \(acme\/upside\).*min must not exceed max/,
    ],
    [
      'more active than total parameters',
      {
        models: [
          {
            provider: 'acme',
            name: 'moe',
            architecture: 'moe',
            parameters: { total: 10, active: 20 },
          },
        ],
      },
      /models\[0\] \(acme\/moe\).*active parameters must not exceed total/,
    ],
    [
      'an unknown architecture',
      { models: [{ provider: 'acme', name: 'x', architecture: 'sparse', parameters: 3 }] },
      /models\[0\] \(acme\/x\): architecture/,
    ],
    [
      'a model listed twice',
      {
        models: [
          { provider: 'acme', name: 'twin', architecture: 'dense', parameters: 3 },
          { provider: 'acme', name: 'twin', architecture: 'dense', parameters: 4 },
        ],
      },
      /acme\/twin is listed twice/,
    ],
    [
      'a provider in a zone without a mix',
      { providers: [{ name: 'acme', zone: 'ATL', pue: 1.2, wueOnsite: 0.1 }] },
      /providers\[0\] \(acme\): zone "ATL" has no electricity mix/,
    ],
    ['not an object', 'hello', /expected \{"models"/],
  ];
  for (const [what, content, message] of badFiles) {
    it(`refuses a models file with ${what}, naming the entry`, () => {
      const path = writeJson(`bad-${what.replace(/\W+/g, '-')}.json`, content);
      expect(() => loadCatalog({ modelsFile: path })).to.throw(message);
    });
  }

  it('names a models file that is missing or not JSON', () => {
    expect(() => loadCatalog({ modelsFile: join(dir, 'nope.json') })).to.throw(
      ModelDataError,
      /nope\.json: cannot read: file not found/,
    );
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ not json');
    expect(() => loadCatalog({ modelsFile: path })).to.throw(
      ModelDataError,
      /broken\.json: cannot read/,
    );
  });
});
