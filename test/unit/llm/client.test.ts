import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  LlmError,
  llmImpacts,
  loadCatalog,
  SettingsError,
  toRange,
  UnknownModelError,
} from 'carbonscope';
import { expect } from 'chai';
import {
  createTestMetrics,
  parseSamples,
  type TestMetrics,
} from '#library-tests/helpers/metrics.js';
import { type ChatService, createChatService } from '../../../src/llm/client.js';
import { MOCK_FINGERPRINT, mockNotice } from '../../../src/llm/mock-fingerprint.js';
import { type MockLlm, startMockLlm } from '../../../src/llm/mock-server.js';
import { estimateTokens } from '../../../src/llm/tokens.js';
import { echoKeyIn401, failWith, startStubUpstream } from '../../helpers/llm-upstream.js';
import { captureLogger } from '../../helpers/log.js';

const KEY = 'sk-carbonscope-test-0123456789abcdef';
const catalog = loadCatalog();
const ask = {
  model: 'gpt-4o',
  messages: [{ role: 'user' as const, content: 'How green is this?' }],
};

function service(
  baseUrl: string,
  metrics: TestMetrics,
  extra: { timeoutMs?: number; zone?: string; apiKey?: string } = {},
) {
  const log = captureLogger('debug');
  const svc = createChatService({
    baseUrl,
    apiKey: extra.apiKey ?? KEY,
    provider: 'openai',
    defaultModel: 'gpt-4o-mini',
    electricityMixZone: extra.zone,
    timeoutMs: extra.timeoutMs ?? 5000,
    catalog,
    meter: metrics.meter,
    logger: log.logger,
  });
  return { svc, lines: log.lines };
}

async function expectLlmError(
  work: Promise<unknown>,
  status: number,
  code: string,
): Promise<LlmError> {
  try {
    await work;
  } catch (err) {
    expect(err).to.be.instanceOf(LlmError);
    expect((err as LlmError).status).to.equal(status);
    expect((err as LlmError).code).to.equal(code);
    return err as LlmError;
  }
  throw new Error(`expected a ${status}`);
}

describe('llm chat client', () => {
  let mock: MockLlm;
  let metrics: TestMetrics;
  let svc: ChatService;
  before(async () => {
    mock = await startMockLlm({ port: 0, latencyMs: 20 });
    metrics = createTestMetrics();
    svc = service(`${mock.url}/v1`, metrics).svc;
  });
  after(async () => {
    await mock.close();
    await metrics.shutdown();
  });

  // The compose stack runs the mock as its own service behind LLM_BASE_URL: its answers priced
  // a model that never ran with nothing in the impacts to say so.
  it('says in the impacts when the bundled mock answered, standalone as in compose', async () => {
    const r = await svc.complete(ask);
    expect(r.impacts.warnings.map((w) => w.code)).to.include('mock-llm');
  });

  it('estimates token counts, and says so, when the upstream reports null or nonsense usage', async () => {
    const stub = await startStubUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-odd',
          object: 'chat.completion',
          created: 0,
          model: 'gpt-4o',
          choices: [
            { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'a b c d' } },
          ],
          usage: { prompt_tokens: -3, completion_tokens: null, total_tokens: null },
        }),
      );
    });
    try {
      const r = await service(stub.baseUrl, metrics).svc.complete(ask);
      expect(r.usage.promptTokens).to.be.a('number').and.be.greaterThan(0);
      expect(r.usage.completionTokens).to.be.a('number').and.be.greaterThan(0);
      expect(r.impacts.warnings.map((w) => w.code)).to.include('usage-estimated');
      // An upstream that is no mock: its figures need no word that no model ran.
      expect(r.impacts.warnings.map((w) => w.code)).not.to.include('mock-llm');
    } finally {
      await stub.close();
    }
  });

  // OpenAI's answer to a request its model declines: `content` null and the reason in
  // `refusal`. The client was given an empty answer with nothing to say why.
  it("passes on the model's refusal, the key masked, and counts its tokens", async () => {
    const said = `I can't help with that (${KEY}).`;
    const stub = await startStubUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const message = { role: 'assistant', content: null, refusal: said };
      const choices = [{ index: 0, finish_reason: 'stop', message }];
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, choices }));
    });
    try {
      const r = await service(stub.baseUrl, metrics).svc.complete(ask);
      const { refusal, ...rest } = r.message;
      expect(rest).to.deep.equal({ role: 'assistant', content: '' });
      expect(refusal).to.match(/^I can't help with that \(.+\)\.$/);
      expect(refusal).not.to.include(KEY);
      // No usage reported: the estimate counts the refusal, which the model generated.
      expect(r.usage.completionTokens).to.equal(estimateTokens(said));
    } finally {
      await stub.close();
    }
  });

  for (const refusal of [null, 42, ['no'], { text: 'no' }, '']) {
    it(`says no refusal where the upstream's is ${JSON.stringify(refusal)}`, async () => {
      const stub = await startStubUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const message = { role: 'assistant', content: 'ok', refusal };
        const choices = [{ index: 0, finish_reason: 'stop', message }];
        res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, choices }));
      });
      try {
        const r = await service(stub.baseUrl, metrics).svc.complete(ask);
        expect(r.message).to.deep.equal({ role: 'assistant', content: 'ok' });
      } finally {
        await stub.close();
      }
    });
  }

  // The GenAI conventions: without the upstream's count the instrumentation "MUST NOT report"
  // gen_ai.client.token.usage. A ~4-characters guess summed with real counts, unlabelled, made
  // the token series say the upstream used tokens it never reported.
  for (const [what, usage, recorded] of [
    ['no usage', undefined, { input: undefined, output: undefined }],
    ['a nonsense completion count', { prompt_tokens: 5, completion_tokens: -7 }, { input: 5 }],
    ['an implausible count', { prompt_tokens: 5, completion_tokens: 1e12 }, {}],
  ] as const) {
    it(`records in the token histogram only counts the upstream reported (${what})`, async () => {
      const stub = await startStubUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const message = { role: 'assistant', content: 'a b c d' };
        res.end(
          JSON.stringify({
            id: 'chatcmpl-guess',
            object: 'chat.completion',
            created: 0,
            model: 'gpt-4o',
            choices: [{ index: 0, finish_reason: 'stop', message }],
            usage,
          }),
        );
      });
      const m = createTestMetrics();
      try {
        const r = await service(stub.baseUrl, m).svc.complete(ask);
        expect(r.impacts.warnings.map((w) => w.code)).to.include('usage-estimated');
        const at = { gen_ai_request_model: 'gpt-4o', gen_ai_operation_name: 'chat' };
        for (const type of ['input', 'output'] as const) {
          expect(
            await m.value('gen_ai_client_token_usage_sum', { ...at, gen_ai_token_type: type }),
            type,
          ).to.equal((recorded as { input?: number; output?: number })[type]);
        }
        // The impacts still count: the estimate is theirs, and they say so.
        const joules = await m.value('carbonscope_llm_energy_joules_total', {
          gen_ai_request_model: 'gpt-4o',
          carbonscope_bound: 'max',
          carbonscope_phase: 'usage',
        });
        expect(joules).to.be.greaterThan(0);
      } finally {
        await stub.close();
        await m.shutdown();
      }
    });
  }

  it('calls the API, measures latency, and computes the impacts of what it generated', async () => {
    const r = await svc.complete(ask);
    expect(r.model).to.equal('gpt-4o');
    expect(r.provider).to.equal('openai');
    expect(r.message.content).to.include('mock answer');
    expect(r.latencySeconds).to.be.greaterThan(0.015);
    expect(r.usage.completionTokens).to.be.greaterThan(0);
    const estimate = {
      provider: 'openai',
      model: 'gpt-4o',
      outputTokens: r.usage.completionTokens,
      requestLatencySeconds: r.latencySeconds,
    };
    const { errors, ...expected } = llmImpacts(catalog, estimate);
    expect(errors).to.equal(null);
    // The EcoLogits method's own figures and warnings, then the mock's word that no model ran.
    expect(r.impacts).to.deep.equal({
      ...expected,
      warnings: [...(expected.warnings ?? []), mockNotice(MOCK_FINGERPRINT)],
    });
    expect(r.impacts.zone).to.equal('USA');
    expect(r.impacts.warnings.map((w) => w.code)).to.include('model-arch-not-released');
    // The mock answers in ~20 ms, far below the modelled generation time: latency caps ΔT,
    // so the hardware's embodied share is smaller than with no measured latency.
    const uncapped = llmImpacts(catalog, { ...estimate, requestLatencySeconds: undefined });
    expect(toRange(r.impacts.embodied.gwp.value).max).to.be.lessThan(
      toRange(uncapped.embodied?.gwp.value ?? 0).max,
    );
  });

  it('moves the token histogram and impact counters by the computed amounts, in J, g, gSbeq and L', async () => {
    const m = createTestMetrics();
    try {
      const own = service(`${mock.url}/v1`, m).svc;
      const a = await own.complete(ask);
      const b = await own.complete({
        ...ask,
        messages: [{ role: 'user', content: 'a longer question '.repeat(20) }],
      });
      const sum = (f: (r: typeof a) => number) => f(a) + f(b);
      const labels = { gen_ai_provider_name: 'openai', gen_ai_request_model: 'gpt-4o' };
      const tokens = { ...labels, gen_ai_operation_name: 'chat' };
      const near = (actual: number | undefined, expected: number) =>
        expect(actual).to.be.closeTo(expected, Math.abs(expected) * 1e-9);
      near(
        await m.value('gen_ai_client_token_usage_sum', { ...tokens, gen_ai_token_type: 'input' }),
        sum((r) => r.usage.promptTokens),
      );
      near(
        await m.value('gen_ai_client_token_usage_sum', { ...tokens, gen_ai_token_type: 'output' }),
        sum((r) => r.usage.completionTokens),
      );
      expect(
        await m.value('gen_ai_client_token_usage_count', {
          ...tokens,
          gen_ai_token_type: 'output',
        }),
      ).to.equal(2);
      // Sum and count only: no bucket boundaries, so no series per boundary and model.
      const buckets = parseSamples(await m.scrape()).filter(
        (s) => s.name === 'gen_ai_client_token_usage_bucket',
      );
      expect(new Set(buckets.map((b) => b.labels.le))).to.deep.equal(new Set(['+Inf']));
      for (const bound of ['min', 'max'] as const) {
        const estimate = { ...labels, carbonscope_bound: bound, carbonscope_estimated: 'true' };
        const usage = { ...estimate, carbonscope_phase: 'usage' };
        const embodied = { ...estimate, carbonscope_phase: 'embodied' };
        near(
          await m.value('carbonscope_llm_energy_joules_total', usage),
          sum((r) => toRange(r.impacts.usage.energy.value)[bound] * 3.6e6),
        );
        near(
          await m.value('carbonscope_llm_gwp_grams_total', usage),
          sum((r) => toRange(r.impacts.usage.gwp.value)[bound] * 1000),
        );
        near(
          await m.value('carbonscope_llm_gwp_grams_total', embodied),
          sum((r) => toRange(r.impacts.embodied.gwp.value)[bound] * 1000),
        );
        near(
          await m.value('carbonscope_llm_adpe_grams_total', usage),
          sum((r) => toRange(r.impacts.usage.adpe.value)[bound] * 1000),
        );
        near(
          await m.value('carbonscope_llm_adpe_grams_total', embodied),
          sum((r) => toRange(r.impacts.embodied.adpe.value)[bound] * 1000),
        );
        near(
          await m.value('carbonscope_llm_pe_joules_total', usage),
          sum((r) => toRange(r.impacts.usage.pe.value)[bound] * 1e6),
        );
        near(
          await m.value('carbonscope_llm_pe_joules_total', embodied),
          sum((r) => toRange(r.impacts.embodied.pe.value)[bound] * 1e6),
        );
        near(
          await m.value('carbonscope_llm_wcf_L_total', usage),
          sum((r) => toRange(r.impacts.usage.wcf.value)[bound]),
        );
        expect(await m.value('carbonscope_llm_energy_joules_total', embodied)).to.equal(undefined);
        expect(await m.value('carbonscope_llm_wcf_L_total', embodied)).to.equal(undefined);
      }
      const usage = { ...labels, carbonscope_phase: 'usage' };
      const min = await m.value('carbonscope_llm_energy_joules_total', {
        ...usage,
        carbonscope_bound: 'min',
      });
      const max = await m.value('carbonscope_llm_energy_joules_total', {
        ...usage,
        carbonscope_bound: 'max',
      });
      expect(max).to.be.greaterThan(min ?? Number.POSITIVE_INFINITY);
    } finally {
      await m.shutdown();
    }
  });

  it('prices models of several providers in one service, each with its own data centre', async () => {
    const m = createTestMetrics();
    try {
      const own = service(`${mock.url}/v1`, m).svc;
      const mistral = await own.complete({ ...ask, model: 'mistralai/mistral-large-latest' });
      expect([mistral.provider, mistral.model]).to.deep.equal([
        'mistralai',
        'mistral-large-latest',
      ]);
      // Sent upstream as the client wrote it: a gateway routes on the provider prefix.
      expect(mistral.upstreamModel).to.equal('mistralai/mistral-large-latest');
      expect(mistral.impacts.zone).to.equal('SWE');
      // A bare name of another provider than the default resolves when one provider has it.
      const claude = await own.complete({ ...ask, model: 'claude-sonnet-4-5' });
      expect([claude.provider, claude.model]).to.deep.equal(['anthropic', 'claude-sonnet-4-5']);
      expect(claude.impacts.energy.value).to.have.keys('min', 'max');
      // A Hugging Face name whose own prefix is a provider without that model.
      const hf = await own.complete({ ...ask, model: 'openai/gpt-oss-20b' });
      expect([hf.provider, hf.model]).to.deep.equal(['huggingface_hub', 'openai/gpt-oss-20b']);
      const completion = (provider: string, model: string) =>
        m.value('gen_ai_client_token_usage_sum', {
          gen_ai_provider_name: provider,
          gen_ai_request_model: model,
          gen_ai_token_type: 'output',
        });
      // gen_ai.provider.name is the conventions' value where they have one (mistral_ai).
      expect(await completion('mistral_ai', 'mistral-large-latest')).to.equal(
        mistral.usage.completionTokens,
      );
      expect(await completion('anthropic', 'claude-sonnet-4-5')).to.equal(
        claude.usage.completionTokens,
      );
      expect(await completion('huggingface_hub', 'openai/gpt-oss-20b')).to.equal(
        hf.usage.completionTokens,
      );
    } finally {
      await m.shutdown();
    }
  });

  it('uses the configured default model and a user-chosen mix zone', async () => {
    const own = service(`${mock.url}/v1`, metrics, { zone: 'FRA' }).svc;
    const r = await own.complete({ messages: ask.messages });
    expect(r.model).to.equal('gpt-4o-mini');
    expect(r.impacts.zone).to.equal('FRA');
  });

  it('refuses an unknown model before calling the API', async () => {
    const stub = await startStubUpstream(failWith(500));
    try {
      const own = service(stub.baseUrl, metrics).svc;
      await own.complete({ ...ask, model: 'gpt-9000' }).then(
        () => expect.fail('expected an error'),
        (err: unknown) => {
          expect(err).to.be.instanceOf(UnknownModelError);
          expect((err as Error).message).to.include('gpt-9000');
        },
      );
      expect(stub.requests).to.equal(0);
    } finally {
      await stub.close();
    }
  });

  it('refuses at creation a provider, default model or zone the data does not know, naming the setting', () => {
    const make = (defaultModel: string, zone?: string, provider = 'openai') =>
      createChatService({
        baseUrl: 'http://127.0.0.1:9/v1',
        apiKey: undefined,
        provider,
        defaultModel,
        electricityMixZone: zone,
        timeoutMs: 1000,
        catalog,
        meter: metrics.meter,
        logger: captureLogger().logger,
      });
    expect(() => make('no-such-model')).to.throw(
      SettingsError,
      /^LLM_MODEL: unknown model "no-such-model"/,
    );
    expect(() => make('gpt-4o', 'ZZZ')).to.throw(
      SettingsError,
      /^LLM_ELECTRICITY_MIX_ZONE: unknown electricity mix zone "ZZZ"/,
    );
    // A typo'd provider would hand every bare name to whichever provider has it, silently.
    expect(() => make('gpt-4o', undefined, 'opneai')).to.throw(
      SettingsError,
      /^LLM_PROVIDER: no model of provider "opneai" is known; the model data has .*openai/,
    );
  });

  // Azure OpenAI and proxies take a parameter in the base URL (`?api-version=`, `?token=`): the
  // client appended its path to that query (`/v1?api-version=X/chat/completions`), so every
  // chat was posted to /v1.
  it("keeps the base URL's own query, after the chat path", async () => {
    const asked: string[] = [];
    const stub = await startStubUpstream((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      const message = { role: 'assistant', content: 'a b' };
      const choices = [{ index: 0, finish_reason: 'stop', message }];
      const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, choices, usage }));
    });
    try {
      const base = `${stub.baseUrl}/?api-version=2024-06-01&token=px-K3y`;
      await service(base, metrics).svc.complete(ask);
      expect(asked).to.deep.equal(['/v1/chat/completions?api-version=2024-06-01&token=px-K3y']);
    } finally {
      await stub.close();
    }
  });

  it('an upstream 500 becomes a 502, after at most one retry', async () => {
    const stub = await startStubUpstream(failWith(500));
    try {
      const err = await expectLlmError(
        service(stub.baseUrl, metrics).svc.complete(ask),
        502,
        'upstream_error',
      );
      expect(err.message).to.equal('the LLM service answered with status 500');
      expect(stub.requests).to.equal(2);
    } finally {
      await stub.close();
    }
  });

  it('a slow upstream becomes a 504', async () => {
    const slow = await startMockLlm({ port: 0, latencyMs: 10_000 });
    try {
      const err = await expectLlmError(
        service(`${slow.url}/v1`, metrics, { timeoutMs: 150 }).svc.complete(ask),
        504,
        'upstream_timeout',
      );
      expect(err.message).to.include('150 ms');
    } finally {
      await slow.close();
    }
  });

  it('an unreachable upstream becomes a 502', async () => {
    const stub = await startStubUpstream(failWith(500));
    const { baseUrl } = stub;
    await stub.close();
    await expectLlmError(service(baseUrl, metrics).svc.complete(ask), 502, 'upstream_unreachable');
  });

  it('never lets the key out, even when the upstream echoes it', async () => {
    const stub = await startStubUpstream(echoKeyIn401);
    try {
      const { svc: own, lines } = service(stub.baseUrl, metrics);
      const err = await expectLlmError(own.complete(ask), 502, 'upstream_error');
      expect(err.message).to.include('401');
      expect(err.message).to.include('[redacted]');
      expect(err.message).not.to.include(KEY);
      expect(lines.length).to.be.greaterThan(0);
      expect(lines.join('\n')).not.to.include(KEY);
    } finally {
      await stub.close();
    }
  });

  it('never lets the key out of an error object a 200 echoes it in', async () => {
    const stub = await startStubUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad key ${req.headers.authorization}` } }));
    });
    try {
      const { svc: own, lines } = service(stub.baseUrl, metrics);
      const err = await expectLlmError(own.complete(ask), 502, 'upstream_error');
      expect(err.message).to.include('[redacted]');
      expect(err.message).not.to.include(KEY);
      expect(lines.join('\n')).to.include('[redacted]');
      expect(lines.join('\n')).not.to.include(KEY);
    } finally {
      await stub.close();
    }
  });

  /** A 200 completion with the id, model, finish reason and content `fields(req)` gives. */
  function completionOf(fields: (req: IncomingMessage) => Record<string, unknown>) {
    return (req: IncomingMessage, res: ServerResponse) => {
      const f = fields(req);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: f.id,
          object: 'chat.completion',
          created: 1,
          model: f.model,
          choices: [
            {
              index: 0,
              finish_reason: f.finish,
              message: { role: 'assistant', content: f.content },
            },
          ],
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        }),
      );
    };
  }

  it('never lets the key out in a completion that echoes it', async () => {
    const stub = await startStubUpstream(
      completionOf((req) => {
        const echo = `seen ${req.headers.authorization}`;
        return { id: echo, model: echo, finish: echo, content: echo };
      }),
    );
    try {
      const result = await service(stub.baseUrl, metrics).svc.complete(ask);
      const answer = JSON.stringify(result);
      expect(answer).not.to.include(KEY);
      expect(result.message.content).to.equal('seen Bearer [redacted]');
    } finally {
      await stub.close();
    }
  });

  it('answers text fields that are no text upstream as text, not as what was sent', async () => {
    const stub = await startStubUpstream(
      completionOf(() => ({ id: { a: 1 }, model: ['x'], finish: 7, content: 'ok' })),
    );
    try {
      const result = await service(stub.baseUrl, metrics).svc.complete(ask);
      expect(result.id).to.equal('');
      expect(result.upstreamModel).to.equal('');
      expect(result.finishReason).to.equal(null);
    } finally {
      await stub.close();
    }
  });

  it('never lets out a key holding " or \\, echoed in an error without a message', async () => {
    // Such an error's text is its JSON (openai's APIError): the key is in it escaped.
    const key = 'sk-"quoted\\key-SECRET42';
    const stub = await startStubUpstream((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { detail: `bad key: ${req.headers.authorization}` } }));
    });
    try {
      const { svc: own, lines } = service(stub.baseUrl, metrics, { apiKey: key });
      const err = await expectLlmError(own.complete(ask), 502, 'upstream_error');
      expect(err.message).to.include('bad key: Bearer [redacted]');
      const seen = `${err.message}\n${lines.join('\n')}`;
      expect(seen).not.to.include('key-SECRET42');
    } finally {
      await stub.close();
    }
  });

  // A key may come in the base URL's query (a proxy's ?token=, Azure's ?api-key=): the service's
  // logger masked it, but an upstream that echoes the URL handed it to every /chat client.
  it("never lets out a key of the base URL's query, echoed in an error or a completion", async () => {
    const token = 'url-token-SECRET-0123456789';
    const echoUrl = (req: IncomingMessage, res: ServerResponse) => {
      const ok = req.url?.includes('ok=1');
      if (!ok) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `bad path ${req.url}` } }));
        return;
      }
      const echo = `seen ${req.url}`;
      completionOf(() => ({ id: echo, model: echo, finish: echo, content: echo }))(req, res);
    };
    const stub = await startStubUpstream(echoUrl);
    try {
      const refused = service(`${stub.baseUrl}?token=${token}`, metrics).svc;
      const err = await expectLlmError(refused.complete(ask), 502, 'upstream_error');
      expect(err.message).to.include('token=[redacted]');
      expect(err.message).not.to.include(token);
      const served = service(`${stub.baseUrl}?ok=1&token=${token}`, metrics).svc;
      const result = await served.complete(ask);
      expect(result.message.content).to.include('token=[redacted]');
      expect(JSON.stringify(result)).not.to.include(token);
    } finally {
      await stub.close();
    }
  });
});
