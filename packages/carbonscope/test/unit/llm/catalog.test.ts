import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadCatalog } from '../../../src/llm/catalog.js';
import { AmbiguousModelError, ModelDataError, UnknownModelError } from '../../../src/llm/errors.js';
import { llmImpacts } from '../../../src/llm/llm-impacts.js';
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

  it('holds every model, provider and mix of EcoLogits 0.11.3', () => {
    expect(catalog.modelIds()).to.have.length(351);
    expect(catalog.providerNames()).to.deep.equal([
      'anthropic',
      'cohere',
      'google_genai',
      'huggingface_hub',
      'mistralai',
      'openai',
    ]);
    expect(catalog.modelIds()).to.include.members([
      'openai/gpt-4o',
      'anthropic/claude-sonnet-4-5',
      'mistralai/mistral-large-latest',
      'huggingface_hub/openai/gpt-oss-20b',
    ]);
    expect(catalog.zones()).to.have.length(215);
    expect(catalog.findModel('openai', 'gpt-4o')).to.deep.equal({
      provider: 'openai',
      name: 'gpt-4o',
      architecture: { type: 'moe', total: 440, active: { min: 44, max: 132 } },
      deployment: { tps: 74, ttft: 0.61 },
      warnings: ['model-arch-not-released', 'model-arch-multimodal'],
    });
    // EcoLogits' aliases are models of their own, with the aliased model's figures.
    const alias = catalog.findModel('openai', 'gpt-35-turbo');
    expect(alias?.architecture).to.deep.equal(
      catalog.findModel('openai', 'gpt-3.5-turbo')?.architecture,
    );
    expect(catalog.findMix('SWE')).to.deep.equal({
      gwp: 0.03526,
      adpe: 7.771e-8,
      pe: 4.73,
      wue: 6.0315,
      warnings: [],
    });
    expect(catalog.findMix('AFG')?.warnings).to.deep.equal([
      'electricity-mix-adpe-world',
      'electricity-mix-pe-world',
      'electricity-mix-wue-world',
    ]);
    expect(catalog.dataCenter('mistralai')).to.deep.equal({
      zone: 'SWE',
      dataCenter: { pue: 1.16, wueOnsite: 0.09 },
    });
  });

  describe('naming a model', () => {
    const id = (m: { provider: string; name: string }) => `${m.provider}/${m.name}`;
    it('provider/model names the provider', () => {
      expect(id(catalog.resolveModel('mistralai/mistral-large-latest'))).to.equal(
        'mistralai/mistral-large-latest',
      );
      expect(id(catalog.resolveModel('huggingface_hub/openai/gpt-oss-20b', 'openai'))).to.equal(
        'huggingface_hub/openai/gpt-oss-20b',
      );
    });
    it("a bare name is the default provider's, else the one provider's that has it", () => {
      expect(id(catalog.resolveModel('gpt-4o', 'openai'))).to.equal('openai/gpt-4o');
      expect(id(catalog.resolveModel('claude-sonnet-4-5', 'openai'))).to.equal(
        'anthropic/claude-sonnet-4-5',
      );
      expect(id(catalog.resolveModel('gpt-4o'))).to.equal('openai/gpt-4o');
    });
    it("a Hugging Face name keeps its own slash when the prefix's provider lacks the model", () => {
      expect(id(catalog.resolveModel('openai/gpt-oss-20b', 'openai'))).to.equal(
        'huggingface_hub/openai/gpt-oss-20b',
      );
    });
    it('an unknown model is a 400 naming it and some models of the provider', () => {
      expect(() => catalog.resolveModel('gpt-9000', 'openai'))
        .to.throw(
          UnknownModelError,
          /unknown model "gpt-9000" for provider "openai".*openai\/gpt-4/,
        )
        .with.property('status', 400);
      expect(() => catalog.resolveModel('acme/gpt-4o', 'mistralai')).to.throw(
        /unknown model "acme\/gpt-4o" for provider "mistralai".*and \d+ more/,
      );
    });
    it('an unknown id that differs from a model only in case or surrounding space names it', () => {
      for (const typed of ['GPT-4o', ' gpt-4o', 'gpt-4o\n', 'OpenAI/GPT-4o']) {
        expect(() => catalog.resolveModel(typed), JSON.stringify(typed)).to.throw(
          UnknownModelError,
          /\. Did you mean openai\/gpt-4o\?$/,
        );
      }
      expect(catalog.similarModels('gpt-9000')).to.deep.equal([]);
    });
    it("a known name behind another prefix (Google's models/, a provider's common name) names it", () => {
      // Refused, as EcoLogits refuses them, but the message said only "unknown model
      // "models/gemini-2.5-flash" or any other provider": @google/genai takes
      // models/gemini-2.5-flash, and google/, mistral/, azure/ are what users write.
      const meant = [
        ['models/gemini-2.5-flash', 'google_genai/gemini-2.5-flash'],
        ['google/gemini-2.5-flash', 'google_genai/gemini-2.5-flash'],
        ['mistral/mistral-large-latest', 'mistralai/mistral-large-latest'],
        ['azure/gpt-4o-2024-08-06', 'openai/gpt-4o-2024-08-06'],
      ];
      for (const [typed, suggested] of meant) {
        expect(() => catalog.resolveModel(typed), typed)
          .to.throw(UnknownModelError, `Did you mean ${suggested}?`)
          .with.property('message')
          .that.matches(new RegExp(`^unknown model "${typed}" for any provider \\(`));
      }
      expect(catalog.similarModels('models/gemini-9')).to.deep.equal([]);
    });
    it('an unknown id is quoted escaped and cut short: a library user may print the message', () => {
      // The message quoted the id raw: an escape sequence ran in a terminal, a megabyte came
      // back whole.
      const typed = `\u001b[31mred${'x'.repeat(1_000_000)}`;
      let message = '';
      try {
        catalog.resolveModel(typed);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).to.match(/^unknown model "\\u001b\[31mredx+…"/);
      expect([...message].some((c) => c.charCodeAt(0) < 0x20)).to.equal(false);
      expect(message.length).to.be.below(400);
    });
    it('an id that is not a string is a TypeError naming it, not a crash in indexOf', () => {
      for (const id of [undefined, 42, null]) {
        expect(() => catalog.resolveModel(id as unknown as string), String(id)).to.throw(
          TypeError,
          /^model: expected a model id such as openai\/gpt-4o, got /,
        );
      }
    });
    it('a bare name two providers have, the default not among them, is a 400 listing both', () => {
      const path = writeJson('twins.json', [
        { provider: 'acme', name: 'shared-7b', architecture: 'dense', parameters: 7 },
        { provider: 'mistralai', name: 'shared-7b', architecture: 'dense', parameters: 7 },
      ]);
      const twins = loadCatalog({ modelsFile: path });
      expect(() => twins.resolveModel('shared-7b', 'openai'))
        .to.throw(
          AmbiguousModelError,
          'model "shared-7b" is ambiguous: name one of acme/shared-7b, mistralai/shared-7b',
        )
        .with.property('status', 400);
      expect(id(twins.resolveModel('shared-7b', 'mistralai'))).to.equal('mistralai/shared-7b');
      expect(id(twins.resolveModel('acme/shared-7b', 'openai'))).to.equal('acme/shared-7b');
    });
  });

  it('llmImpacts refuses a provider, model or zone that is not a string, naming it', () => {
    const request = { provider: 'openai', model: 'gpt-4o', outputTokens: 10 };
    for (const [field, value] of [
      ['provider', undefined],
      ['model', 7],
      ['zone', 5],
    ] as const) {
      expect(() => llmImpacts(catalog, { ...request, [field]: value }), field).to.throw(
        TypeError,
        new RegExp(`^${field}: expected a string, got ${value}`),
      );
    }
  });

  // null is JSON's "not set", as for the latency: a request read from JSON with "zone": null got
  // the provider's own zone before names were checked, and must still.
  it("llmImpacts reads a null zone as none given: the provider's own", () => {
    const request = { provider: 'openai', model: 'gpt-4o', outputTokens: 10 };
    const zone = null as unknown as undefined;
    expect(llmImpacts(catalog, { ...request, zone })).to.deep.equal(llmImpacts(catalog, request));
  });

  it('a provider without figures uses the world mix, with a warning, and the known providers envelope', () => {
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
    expect(merged.modelNames('openai')).to.include.members(['my-finetune', 'gpt-4o']);
    expect(merged.modelIds()).to.include('acme/acme-chat-1');
    expect(merged.dataCenter('acme')).to.deep.equal({
      zone: 'FRA',
      dataCenter: { pue: 1.1, wueOnsite: 0.2 },
    });
    const out = llmImpacts(merged, { provider: 'acme', model: 'acme-chat-1', outputTokens: 10 });
    expect(out.errors).to.equal(null);
    expect(out.warnings).to.equal(null);
    // An active-parameter range: every figure is a range, the embodied ones included.
    expect(out.embodied?.gwp.value).to.have.keys('min', 'max');
  });

  it('accepts a bare array of models with deployment figures, warnings and its own mixes', () => {
    const path = writeJson('bare.json', {
      models: [
        {
          provider: 'acme2',
          name: 'tiny',
          architecture: 'dense',
          parameters: { min: 1, max: 3 },
          deployment: { tps: 120, ttft: 0.2 },
          warnings: ['model-arch-not-released'],
        },
      ],
      mixes: {
        ATL: { gwp: 0.1, adpe: 1e-8, pe: 2, wue: 3, warnings: ['electricity-mix-wue-world'] },
      },
    });
    const merged = loadCatalog({ modelsFile: path });
    expect(merged.findModel('acme2', 'tiny')?.deployment).to.deep.equal({ tps: 120, ttft: 0.2 });
    const out = llmImpacts(merged, {
      provider: 'acme2',
      model: 'tiny',
      outputTokens: 1,
      zone: 'ATL',
    });
    expect(out.warnings?.map((w) => w.code)).to.deep.equal([
      'model-arch-not-released',
      'provider-unknown',
      'electricity-mix-wue-world',
    ]);
    const array = writeJson('array.json', [
      { provider: 'acme3', name: 'x', architecture: 'dense', parameters: 2 },
    ]);
    expect(loadCatalog({ modelsFile: array }).modelIds()).to.include('acme3/x');
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
    [
      'an unknown warning code',
      {
        models: [
          { provider: 'acme', name: 'w', architecture: 'dense', parameters: 3, warnings: ['meh'] },
        ],
      },
      /models\[0\] \(acme\/w\): warnings\.0/,
    ],
    [
      'a zero throughput',
      {
        models: [
          {
            provider: 'acme',
            name: 't',
            architecture: 'dense',
            parameters: 3,
            deployment: { tps: 0 },
          },
        ],
      },
      /models\[0\] \(acme\/t\): deployment\.tps/,
    ],
    [
      'a mix with a lower-case zone',
      { mixes: { fra: { gwp: 1, adpe: 1, pe: 1, wue: 1 } } },
      /mixes\.fra/,
    ],
    ['not an object', 'hello', /expected \{"models"/],
    // Printed as they are in `impacts`' report, where an escape sequence would run in the terminal.
    [
      'a control character in a model name',
      { models: [{ provider: 'acme', name: 'x\u001b[2J', architecture: 'dense', parameters: 3 }] },
      /models\[0\] \(acme\/x.*\): name: expected no control characters/,
    ],
    [
      'a control character in a provider name',
      { providers: [{ name: 'ac\nme', zone: 'USA', pue: 1.2, wueOnsite: 0.1 }] },
      /providers\[0\][\s\S]*: name: expected no control characters/,
    ],
    // Figures finite but far past any real one, which priced a request at Infinity or NaN.
    [
      'a parameter count past 1,000,000 billion',
      { models: [{ provider: 'acme', name: 'huge', architecture: 'dense', parameters: 1e307 }] },
      /models\[0\] \(acme\/huge\): parameters.*1000000/,
    ],
    [
      'a throughput under 0.001 tokens a second',
      {
        models: [
          {
            provider: 'acme',
            name: 'slow',
            architecture: 'dense',
            parameters: 3,
            deployment: { tps: 1e-300 },
          },
        ],
      },
      /models\[0\] \(acme\/slow\): deployment\.tps.*0\.001/,
    ],
    [
      'a time to first token over an hour',
      {
        models: [
          {
            provider: 'acme',
            name: 'late',
            architecture: 'dense',
            parameters: 3,
            deployment: { ttft: 1e308 },
          },
        ],
      },
      /models\[0\] \(acme\/late\): deployment\.ttft.*3600/,
    ],
    [
      'a PUE over 10',
      {
        mixes: { ATL: { gwp: 1, adpe: 1, pe: 1, wue: 1 } },
        providers: [{ name: 'acme', zone: 'ATL', pue: 1e308, wueOnsite: 0.1 }],
      },
      /providers\[0\] \(acme\): pue.*10/,
    ],
    [
      'an on-site WUE over 100 L/kWh',
      {
        mixes: { ATL: { gwp: 1, adpe: 1, pe: 1, wue: 1 } },
        providers: [{ name: 'acme', zone: 'ATL', pue: 1.1, wueOnsite: { min: 1, max: 1e308 } }],
      },
      /providers\[0\] \(acme\): wueOnsite.*100/,
    ],
    // A model is named provider/model, cut at the first slash: `my/org/tiny` read as provider `my`.
    [
      "a slash in a model's provider",
      { models: [{ provider: 'my/org', name: 'tiny', architecture: 'dense', parameters: 3 }] },
      /models\[0\] \(my\/org\/tiny\): provider: expected no "\/" \(a model is named provider\/model\)$/,
    ],
    [
      "a slash in a provider's name",
      { providers: [{ name: 'my/org', zone: 'USA', pue: 1.2, wueOnsite: 0.1 }] },
      /providers\[0\] \(my\/org\): name: expected no "\/"/,
    ],
    [
      'a mix GWP over 10 kgCO2eq/kWh',
      { mixes: { ATL: { gwp: 1e308, adpe: 1, pe: 1, wue: 1 } } },
      /mixes\.ATL.*gwp.*10/,
    ],
  ];
  for (const [what, content, message] of badFiles) {
    it(`refuses a models file with ${what}, naming the entry`, () => {
      const path = writeJson(`bad-${what.replace(/\W+/g, '-')}.json`, content);
      expect(() => loadCatalog({ modelsFile: path })).to.throw(message);
    });
  }

  // The message quoted the whole name: a megabyte-long name made a megabyte-long start-up error.
  it('cuts a long name in the error that names its entry', () => {
    const long = 'p'.repeat(100_000);
    const models = [
      { provider: long, name: 'n'.repeat(100_000), architecture: 'dense', parameters: -1 },
    ];
    const path = writeJson('long-name.json', { models });
    expect(() => loadCatalog({ modelsFile: path })).to.throw(
      ModelDataError,
      /: models\[0\] \(p{40}…\/n{40}…\): parameters/,
    );
    const twice = writeJson('long-twice.json', {
      models: [models[0], models[0]].map((m) => ({ ...m, parameters: 3 })),
    });
    expect(() => loadCatalog({ modelsFile: twice }))
      .to.throw(ModelDataError)
      .with.property('message')
      .that.has.length.below(twice.length + 200);
    const zoneless = writeJson('long-provider-zone.json', {
      providers: [{ name: long, zone: 'ATL', pue: 1.2, wueOnsite: 0.1 }],
    });
    expect(() => loadCatalog({ modelsFile: zoneless })).to.throw(
      ModelDataError,
      /: providers\[0\] \(p{40}…\): zone "ATL" has no electricity mix$/,
    );
  });

  it('names a models file that is missing or not JSON', () => {
    expect(() => loadCatalog({ modelsFile: join(dir, 'nope.json') })).to.throw(
      ModelDataError,
      /nope\.json: cannot read: file not found/,
    );
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ not json');
    // Read, and not JSON: `cannot read` sent the user to the file's permissions.
    expect(() => loadCatalog({ modelsFile: path })).to.throw(
      ModelDataError,
      /broken\.json: not JSON: Expected property name or '\}' in JSON at position 2/,
    );
  });

  // Read whole, /dev/zero never ended and a FIFO with no writer never opened: start-up hung.
  it('refuses a models file that is not a regular file, without reading it', () => {
    const fifo = join(dir, 'models.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const path of ['/dev/zero', fifo, dir]) {
      expect(() => loadCatalog({ modelsFile: path }), path).to.throw(
        ModelDataError,
        /: cannot read: not a regular file$/,
      );
    }
  });

  it('refuses a models file over 16 MiB, 200 times the bundled data (80 kB)', () => {
    const path = join(dir, 'huge.json');
    writeFileSync(path, '');
    truncateSync(path, 16 * 1024 * 1024 + 1);
    expect(() => loadCatalog({ modelsFile: path })).to.throw(
      ModelDataError,
      /huge\.json: cannot read: over 16 MiB \(16777217 bytes\)$/,
    );
  });
});
