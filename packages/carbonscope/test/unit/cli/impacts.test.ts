import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ImpactsOptions } from '../../../src/cli/args.js';
import { parseImpactsArgs, UsageError } from '../../../src/cli/args.js';
import { errorLine, formatImpacts, requestOf } from '../../../src/cli/impacts.js';
import { loadCatalog } from '../../../src/llm/catalog.js';
import { llmImpacts } from '../../../src/llm/llm-impacts.js';

const catalog = loadCatalog();
const options = (model: string, provider?: string): ImpactsOptions => ({
  help: false,
  model,
  provider,
  outputTokens: 500,
  latencySeconds: undefined,
  zone: undefined,
  json: false,
});

describe('cli: impacts', () => {
  it('answers for every model of the catalog, named as provider/model or with --provider', () => {
    const ids = catalog.modelIds();
    expect(ids).to.have.length(351);
    for (const id of ids) {
      const entry = catalog.resolveModel(id);
      for (const o of [options(id), options(entry.name, entry.provider)]) {
        const named = requestOf(catalog, o);
        if (!('request' in named)) return expect.fail(`${id}: no request`);
        expect(named.request, id).to.include({ provider: entry.provider, model: entry.name });
        const out = llmImpacts(catalog, named.request);
        if (out.errors) return expect.fail(`${id}: ${out.errors[0].message}`);
        expect(formatImpacts(named.request, out), id).to.match(/Water \(WCF\), usage only/);
      }
    }
  });

  it('takes an explicit --provider at its word, as EcoLogits does', () => {
    const named = requestOf(catalog, options('claude-sonnet-4-5', 'openai'));
    expect(named).to.deep.equal({
      request: {
        provider: 'openai',
        model: 'claude-sonnet-4-5',
        outputTokens: 500,
        requestLatencySeconds: undefined,
        zone: undefined,
      },
    });
    const stripped = requestOf(catalog, options('openai/gpt-4o', 'openai'));
    expect('request' in stripped && stripped.request.model).to.equal('gpt-4o');
  });

  it('an unknown bare name without a provider is an error output, not a guess', () => {
    const named = requestOf(catalog, options('gpt-9000'));
    expect(named).to.have.property('output');
    if ('output' in named) {
      expect(named.output.errors).to.deep.equal([
        {
          code: 'model-not-registered',
          message: 'Could not find model `gpt-9000` for any provider.',
        },
      ]);
    }
  });

  it("an error's line says what a slip of case or space meant, and what zones look like", () => {
    const line = (o: ImpactsOptions) => {
      const named = requestOf(catalog, o);
      const out = 'output' in named ? named.output : llmImpacts(catalog, named.request);
      if (!out.errors) return expect.fail(`${o.model}: an estimate`);
      return errorLine(catalog, o, out.errors[0]);
    };
    expect(line(options('GPT-4o'))).to.equal(
      'model-not-registered: Could not find model `GPT-4o` for any provider. Did you mean openai/gpt-4o?',
    );
    expect(line(options(' gpt-4o', 'openai'))).to.equal(
      'model-not-registered: Could not find model ` gpt-4o` for openai provider. Did you mean openai/gpt-4o?',
    );
    expect(line({ ...options('gpt-4o'), zone: 'fra' })).to.equal(
      'zone-not-registered: Could not find electricity mix for `fra` zone. Did you mean FRA?',
    );
    // run's zone (alpha-2) given to impacts: the same country's alpha-3.
    expect(line({ ...options('gpt-4o'), zone: 'DE' })).to.equal(
      'zone-not-registered: Could not find electricity mix for `DE` zone. Did you mean DEU?',
    );
    expect(line({ ...options('gpt-4o'), zone: 'XY' })).to.equal(
      'zone-not-registered: Could not find electricity mix for `XY` zone. Zones are ISO 3166-1 alpha-3 codes such as DEU or FRA, or WOR for the world.',
    );
    expect(line(options('gpt-9000'))).to.equal(
      'model-not-registered: Could not find model `gpt-9000` for any provider.',
    );
    // A provider no model has: EcoLogits' message names the model alone, as if it were the slip.
    const providers = 'anthropic, cohere, google_genai, huggingface_hub, mistralai, openai';
    expect(line(options('zzz', 'nope'))).to.equal(
      `model-not-registered: Could not find model \`zzz\` for nope provider. No model has provider \`nope\`; the providers are ${providers}.`,
    );
    expect(line(options('nope/zzz'))).to.match(/ No model has provider `nope`; the providers are /);
    // A known provider's unknown model is the model's error alone.
    expect(line(options('zzz', 'openai'))).to.equal(
      'model-not-registered: Could not find model `zzz` for openai provider.',
    );
    // Another provider's model under --provider: the id alone led back to the same error (given
    // as `-m openai/gpt-4o`, --provider still names anthropic), so the line names the provider.
    expect(line(options('openai/gpt-4o', 'anthropic'))).to.equal(
      'model-not-registered: Could not find model `openai/gpt-4o` for anthropic provider. Did you mean --provider openai --model gpt-4o?',
    );
    expect(line(options('gpt-4o', 'anthropic'))).to.equal(
      'model-not-registered: Could not find model `gpt-4o` for anthropic provider. Did you mean --provider openai --model gpt-4o?',
    );
    expect(line(options('models/gemini-2.5-flash'))).to.equal(
      'model-not-registered: Could not find model `gemini-2.5-flash` for models provider. Did you mean google_genai/gemini-2.5-flash?',
    );
  });

  // Printed bare, `--model My Model` pasted into a shell gave --model My and a stray argument.
  it('quotes a suggested name that a shell would split, in single quotes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-impacts-'));
    try {
      const file = join(dir, 'models.json');
      const models = ['My Model', "it's"].map((name) => ({
        provider: 'acme',
        name,
        architecture: 'dense',
        parameters: 3,
      }));
      writeFileSync(file, JSON.stringify({ models }));
      const own = loadCatalog({ modelsFile: file });
      const line = (o: ImpactsOptions) => {
        const named = requestOf(own, o);
        const out = 'output' in named ? named.output : llmImpacts(own, named.request);
        if (!out.errors) return expect.fail(`${o.model}: an estimate`);
        return errorLine(own, o, out.errors[0]);
      };
      expect(line(options('My Model', 'openai'))).to.equal(
        "model-not-registered: Could not find model `My Model` for openai provider. Did you mean --provider acme --model 'My Model'?",
      );
      expect(line(options('acme/my model'))).to.equal(
        "model-not-registered: Could not find model `my model` for acme provider. Did you mean 'acme/My Model'?",
      );
      expect(line(options("IT'S", 'openai'))).to.match(/--provider acme --model 'it'\\''s'\?$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses the options and refuses bad ones with a usage error', () => {
    expect(
      parseImpactsArgs([
        '-p',
        'openai',
        '-m',
        'gpt-4o',
        '-n',
        '250',
        '-l',
        '2.5',
        '-z',
        'FRA',
        '--json',
      ]),
    ).to.deep.equal({
      help: false,
      provider: 'openai',
      model: 'gpt-4o',
      outputTokens: 250,
      latencySeconds: 2.5,
      zone: 'FRA',
      json: true,
    });
    for (const args of [
      ['-m', 'gpt-4o'],
      ['-n', '3'],
      ['-m', 'gpt-4o', '-n', '-3'],
      ['-m', 'gpt-4o', '-n', '99999999999999999999'],
      ['-m', 'gpt-4o', '-n', '3', '-l', '1e3'],
      ['-m', 'gpt-4o', '-n', '3', '--provider='],
    ]) {
      expect(() => parseImpactsArgs(args), args.join(' ')).to.throw(UsageError);
    }
  });

  it('says "1 output token", not "1 output tokens"', () => {
    for (const [outputTokens, said] of [
      [1, '1 output token,'],
      [0, '0 output tokens,'],
      [2, '2 output tokens,'],
    ] as const) {
      const named = requestOf(catalog, { ...options('openai/gpt-4o'), outputTokens });
      if (!('request' in named)) return expect.fail('no request');
      const out = llmImpacts(catalog, named.request);
      if (out.errors) return expect.fail(out.errors[0].message);
      expect(formatImpacts(named.request, out).split('\n')[0]).to.include(` ${said} `);
    }
  });
});
