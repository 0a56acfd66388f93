import { connect } from 'node:net';
import { join } from 'node:path';
import type { Meter } from '@opentelemetry/api';
import { type Carbonscope, llmImpacts, loadCatalog, type SciScore, toRange } from 'carbonscope';
import { expect } from 'chai';
import {
  createTestMetrics,
  findSample,
  parseSamples,
  type TestMetrics,
} from '#library-tests/helpers/metrics.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type ChatResult, type ChatService, createChatService } from '../../src/llm/client.js';
import { createLlm } from '../../src/llm/index.js';
import { semconvProvider } from '../../src/llm/metrics.js';
import { type MockLlm, startMockLlm } from '../../src/llm/mock-server.js';
import type { Logger } from '../../src/logger.js';
import { projectRoot } from '../../src/paths.js';
import { Readiness } from '../../src/readiness.js';
import { installShutdown } from '../../src/shutdown.js';
import { type Listening, listen } from '../helpers/app.js';
import { nextSample, startEstimatedMeter } from '../helpers/energy.js';
import {
  echoKeyIn401,
  failWith,
  type StubUpstream,
  startStubUpstream,
} from '../helpers/llm-upstream.js';
import { captureLogger } from '../helpers/log.js';

/** Half a surrogate pair without its other half: text no UTF-8 can carry. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const KEY = 'sk-carbonscope-integration-secret-42';
const catalog = loadCatalog();

interface ChatApp extends Listening {
  metrics: TestMetrics;
  lines: string[];
}

/** Makes the chat service the app answers /chat with, recording into the app's meter. */
type ServiceFactory = (
  meter: Meter,
  logger: Logger,
) => Promise<{ service: ChatService; close(): Promise<void> }>;

/** The real app, chat service and energy meter (estimate source, fixed grid intensity). */
async function startChatApp(
  baseUrl: string,
  timeoutMs = 5000,
  chatCatalog = catalog,
): Promise<ChatApp & { meter: Carbonscope }> {
  return startAppWith(async (meter, logger) => {
    const { llm } = loadConfig({ LLM_API_KEY: KEY });
    const service = createChatService({
      baseUrl,
      apiKey: llm.apiKey,
      provider: llm.provider,
      defaultModel: llm.model,
      timeoutMs,
      catalog: chatCatalog,
      meter,
      logger,
    });
    return { service, close: async () => {} };
  });
}

/** The real app and energy meter (estimate source, fixed grid intensity) around any service. */
async function startAppWith(make: ServiceFactory): Promise<ChatApp & { meter: Carbonscope }> {
  const config = loadConfig({
    ENERGY_SAMPLE_INTERVAL_MS: '50',
    CARBON_INTENSITY: '300',
    LLM_API_KEY: KEY,
  });
  const metrics = createTestMetrics();
  const { logger, lines } = captureLogger('debug');
  const meter = await startEstimatedMeter(metrics, {}, logger);
  const llm = await make(metrics.meter, logger);
  const app = createApp({
    config,
    logger,
    readiness: new Readiness(),
    metricsText: metrics.scrape,
    chat: { service: llm.service, tracker: meter },
  });
  const listening = await listen(app);
  // As the service does: each request is an operation, counted in http.server.request.duration.
  meter.trackRequests({ servers: [listening.server] });
  return {
    ...listening,
    metrics,
    lines,
    meter,
    close: async () => {
      await listening.close();
      await llm.close();
      await meter.stop();
      await metrics.shutdown();
    },
  };
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** The /chat requests counted in the duration histogram, each as `status error_type` ('-' for none). */
const chatRequestsCounted = (samples: ReturnType<typeof parseSamples>) =>
  samples
    .filter((s) => s.name === 'http_server_request_duration_seconds_count')
    .filter((s) => s.labels.http_route === '/chat')
    .map((s) => `${s.labels.http_response_status_code ?? '-'} ${s.labels.error_type ?? '-'}`);

type ChatBody = ChatResult & {
  local: {
    operation: string;
    durationSeconds: number;
    energyJoules: number;
    emissionsGrams: number;
    embodiedGrams: number;
    sci: SciScore;
    estimated: boolean;
    provisional: boolean;
  };
};

describe('/chat end to end (real HTTP, mock LLM, real meter)', () => {
  let mock: MockLlm;
  let app: ChatApp & { meter: Carbonscope };
  before(async () => {
    mock = await startMockLlm({ port: 0, latencyMs: 30 });
    app = await startChatApp(`${mock.url}/v1`);
  });
  after(async () => {
    await app.close();
    await mock.close();
  });

  it('POST /chat answers the completion with impacts that match the method, and local energy', async () => {
    const res = await postJson(app.url, {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What does a chat cost the planet?' },
      ],
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as ChatBody;
    expect(body.model).to.equal('gpt-4o');
    expect(body.message.role).to.equal('assistant');
    expect(body.message.content).to.include('mock answer');
    expect(body.usage.completionTokens).to.be.greaterThan(0);
    expect(body.latencySeconds).to.be.at.least(0.03);

    const expected = llmImpacts(catalog, {
      provider: 'openai',
      model: 'gpt-4o',
      outputTokens: body.usage.completionTokens,
      requestLatencySeconds: body.latencySeconds,
    });
    if (expected.errors) expect.fail(expected.errors[0].message);
    for (const k of ['energy', 'gwp', 'adpe', 'pe', 'wcf'] as const) {
      expect(body.impacts[k]).to.deep.equal(expected[k]);
      const { min, max } = toRange(body.impacts[k].value);
      expect(max).to.be.greaterThan(min);
      expect(body.impacts.usage[k]).to.deep.equal(expected.usage[k]);
    }
    expect(body.impacts.embodied).to.deep.equal(expected.embodied);
    expect(body.impacts.energy.unit).to.equal('kWh');
    // EcoLogits' own, then the bundled mock's word that no model ran.
    expect(body.impacts.warnings.map((w) => w.code)).to.deep.equal([
      'model-arch-not-released',
      'model-arch-multimodal',
      'mock-llm',
    ]);

    expect(body.local.operation).to.equal('chat');
    expect(body.local.durationSeconds).to.be.at.least(0.03);
    expect(body.local.energyJoules).to.be.a('number').and.at.least(0);
    expect(body.local.estimated).to.equal(true);
    expect(body.local.provisional).to.equal(true);
    // The chat's local SCI: its E × I and its share of this machine's embodied emissions.
    expect(body.local.embodiedGrams).to.be.a('number').and.at.least(0);
    expect(body.local.sci).to.deep.include({
      operationalGrams: body.local.emissionsGrams,
      embodiedGrams: body.local.embodiedGrams,
      units: 1,
      estimated: true,
    });
    await nextSample(app.meter);

    // The counters on /metrics moved by exactly the computed amounts (this app's only chat).
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const request = { gen_ai_provider_name: 'openai', gen_ai_request_model: 'gpt-4o' };
    const labels = { ...request, carbonscope_phase: 'usage', carbonscope_estimated: 'true' };
    const energy = toRange(expected.energy.value);
    const joules = (bound: string) =>
      findSample(text, 'carbonscope_llm_energy_joules_total', {
        ...labels,
        carbonscope_bound: bound,
      });
    expect(joules('min')).to.be.closeTo(energy.min * 3.6e6, energy.min * 3.6e6 * 1e-9);
    expect(joules('max')).to.be.closeTo(energy.max * 3.6e6, energy.max * 3.6e6 * 1e-9);
    const water = toRange(expected.wcf.value);
    expect(
      findSample(text, 'carbonscope_llm_wcf_L_total', { ...labels, carbonscope_bound: 'max' }),
    ).to.be.closeTo(water.max, water.max * 1e-9);
    expect(
      findSample(text, 'carbonscope_llm_gwp_grams_total', {
        ...request,
        carbonscope_phase: 'embodied',
        carbonscope_bound: 'max',
      }),
    ).to.be.closeTo(
      toRange(expected.embodied.gwp.value).max * 1000,
      toRange(expected.embodied.gwp.value).max * 1e-6,
    );
    expect(
      findSample(text, 'gen_ai_client_token_usage_sum', {
        ...request,
        gen_ai_operation_name: 'chat',
        gen_ai_token_type: 'output',
      }),
    ).to.equal(body.usage.completionTokens);
    const chatOperation = { carbonscope_operation: 'chat' };
    expect(findSample(text, 'carbonscope_operation_energy_joules_count', chatOperation)).to.equal(
      1,
    );
    // This app's only chat, settled by the sample after it: its energy is in the histogram.
    expect(findSample(text, 'carbonscope_operation_energy_joules_sum', chatOperation)).to.be.above(
      0,
    );
  });

  it('GET /chat serves a page with a message box and model picker; JSON lists the models', async () => {
    const page = await fetch(`${app.url}/chat`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).to.include('text/html');
    const html = await page.text();
    expect(html).to.include('<textarea name="message"');
    expect(html).to.include('<optgroup label="mistralai">');
    expect(html).to.include('<option value="openai/gpt-4o">gpt-4o</option>');
    expect(html).to.include('<option value="openai/gpt-4o-mini" selected>');
    expect(html).to.include('<title>Chat · carbonscope</title>');
    const json = (await (await fetch(`${app.url}/chat`)).json()) as {
      models: string[];
      defaultModel: string;
    };
    expect(json.defaultModel).to.equal('openai/gpt-4o-mini');
    expect(json.models).to.include.members(['openai/gpt-4o', 'anthropic/claude-sonnet-4-5']);
    expect(json.models).to.have.length(catalog.modelIds().length);
  });

  it('the form shows the answer, escaped, and the impacts as "mean [min – max]"', async () => {
    const res = await fetch(`${app.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({
        message: 'is <script>alert(1)</script> green?',
        model: 'gpt-4o',
      }).toString(),
    });
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).not.to.include('<script>alert(1)</script>');
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).to.match(
      /<th scope="row">Energy<\/th><td>[\d.e-]+ \[[\d.e-]+ – [\d.e-]+\] kWh<\/td>/,
    );
    expect(html).to.include('<option value="openai/gpt-4o" selected>');
    // The call's local figure is provisional (local.provisional in the JSON), as /predict's.
    expect(html).to.match(
      /Local energy of the call in this process: [\d.e-]+ J, [\d.e-]+ gCO2e \(estimated; provisional, settled at the next sample\)\./,
    );
  });

  const bad: Array<[string, string | object, Record<string, string>, number, RegExp]> = [
    ['empty messages', { messages: [] }, {}, 400, /'messages' is empty/],
    ['no messages', { model: 'gpt-4o' }, {}, 400, /'messages' must be an array/],
    [
      'an unknown role',
      { messages: [{ role: 'robot', content: 'hi' }] },
      {},
      400,
      /messages\[0\]\.role is "robot"; expected one of system, developer, user, assistant/,
    ],
    [
      'a non-string content',
      { messages: [{ role: 'user', content: 42 }] },
      {},
      400,
      /messages\[0\]\.content must be a string/,
    ],
    [
      'only blank text',
      { messages: [{ role: 'user', content: '   ' }] },
      {},
      400,
      /every message is empty/,
    ],
    [
      'an unknown model',
      { model: 'gpt-9000', messages: [{ role: 'user', content: 'hi' }] },
      {},
      400,
      /unknown model "gpt-9000" for provider "openai" or any other provider/,
    ],
    [
      'content over the size limit',
      { messages: [{ role: 'user', content: 'x'.repeat(16_001) }] },
      {},
      413,
      /16001 characters, over the limit of 16000/,
    ],
    [
      'a body over the app body limit',
      { messages: [{ role: 'user', content: 'x'.repeat(70_000) }] },
      {},
      413,
      /larger than the limit/,
    ],
    ['malformed JSON', '{"messages": [', {}, 400, /not valid JSON/],
    ['a JSON array body', '[1,2]', {}, 400, /must be an object/],
    ['a JSON string body', '"hi"', {}, 400, /^request body must be a JSON object$/],
    ['a non-JSON body', 'hello', { 'content-type': 'text/plain' }, 415, /send a JSON body/],
  ];
  for (const [what, body, headers, status, message] of bad) {
    it(`answers ${status} with a clear message for ${what}`, async () => {
      const res = await postJson(app.url, body, headers);
      expect(res.status).to.equal(status);
      const json = (await res.json()) as { error: string; message: string };
      expect(json.message).to.match(message);
    });
  }

  // The role is quoted cut to 40: cut in UTF-16 units, an emoji across the 40th unit left half
  // a surrogate pair in the message, which no UTF-8 text can hold.
  it('quotes a long role cut on a character boundary, not inside an emoji', async () => {
    const role = `${'r'.repeat(39)}\u{1F600}tail`;
    const res = await postJson(app.url, { messages: [{ role, content: 'hi' }] });
    expect(res.status).to.equal(400);
    const { message } = (await res.json()) as { message: string };
    expect(message).to.include(`"${'r'.repeat(39)}\u{1F600}"`);
    expect(LONE_SURROGATE.test(message), 'a lone surrogate').to.equal(false);
  });

  // JSON lets a client send half a pair ("\ud800"): quoted as sent, the answer carried it.
  for (const [what, body, quoted] of [
    ['role', { messages: [{ role: 'r\ud800', content: 'hi' }] }, '"r\ufffd"'],
    ['model', { messages: [{ role: 'user', content: 'hi' }], model: 'x\udc00' }, '"x\ufffd"'],
  ] as const) {
    it(`quotes a ${what} with a lone surrogate as U+FFFD`, async () => {
      const res = await postJson(app.url, body);
      expect(res.status).to.equal(400);
      const { message } = (await res.json()) as { message: string };
      expect(message).to.include(quoted);
    });
  }

  it('a browser posting an empty form gets the form back with the reason', async () => {
    const res = await fetch(`${app.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'message=&model=gpt-4o',
    });
    expect(res.status).to.equal(400);
    const html = await res.text();
    expect(html).to.include('<p role="alert"><strong>Error:</strong> every message is empty');
    // Screen readers announce the title first: it said "Chat" over an error.
    expect(html).to.include('<title>Error: Chat · carbonscope</title>');
  });

  // The limit counts characters (code points), as /predict's does: counted in UTF-16 units, an
  // emoji was two, and 16,000 emoji (the limit, as the 413 names it) were refused as 32,000.
  it('takes 16,000 emoji, the limit in characters, and refuses 16,001 naming them', async () => {
    const emoji = (n: number) => ({ messages: [{ role: 'user', content: '\u{1F600}'.repeat(n) }] });
    expect((await postJson(app.url, emoji(16_000))).status).to.equal(200);
    const over = await postJson(app.url, emoji(16_001));
    expect(over.status).to.equal(413);
    expect(((await over.json()) as { message: string }).message).to.equal(
      'message content is 16001 characters, over the limit of 16000',
    );
  });

  // The form comes back cut to the limit, in characters as the limit counts them, never inside
  // an emoji: cut in UTF-16 units, the page's UTF-8 showed half a pair as U+FFFD.
  it('gives a message over the limit back cut to the limit in characters', async () => {
    const message = `${'\u{1F600}'.repeat(4)}${'x'.repeat(15_997)}`;
    const res = await fetch(`${app.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ message, model: 'gpt-4o' }).toString(),
    });
    expect(res.status).to.equal(413);
    const page = await res.text();
    expect(page).to.include(`\n${'\u{1F600}'.repeat(4)}${'x'.repeat(15_996)}</textarea>`);
    expect(page).not.to.include('\ufffd');
  });

  // The parser's refusals (bytes not UTF-8, an escape that does not decode) came before the
  // route read the form: the page came back with its message box empty, what was written lost.
  for (const [body, kept] of [
    [Buffer.from('message=caf\u00e9+au+lait&model=openai/gpt-4o', 'latin1'), 'caf\ufffd au lait'],
    ['message=100%25+sure+caf%E9&model=openai/gpt-4o', '100%25 sure caf%E9'],
  ] as const) {
    it(`gives a form the parser refused back as it was read (${kept})`, async () => {
      const res = await fetch(`${app.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body,
      });
      expect(res.status).to.equal(400);
      const page = await res.text();
      expect(page).to.match(/role="alert"><strong>Error:<\/strong> [^<]*(UTF-8|percent-escapes)/);
      expect(page).to.include(`\n${kept}</textarea>`);
      expect(page).to.include('<option value="openai/gpt-4o" selected>');
    });
  }

  // The form parser makes a repeated field an array (`message[]=` one too): that is no text,
  // and no empty message either.
  for (const form of ['message=hi&message=ho', 'message[]=hi', 'message[a]=hi']) {
    it(`answers a form whose message is not one text (${form}) 400, saying so`, async () => {
      const calls = async () =>
        findSample(await app.metrics.scrape(), 'gen_ai_client_token_usage_count', {
          gen_ai_token_type: 'input',
        }) ?? 0;
      const before = await calls();
      const res = await fetch(`${app.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      expect(res.status).to.equal(400);
      const json = (await res.json()) as { error: string; message: string };
      expect(json).to.deep.equal({
        error: 'bad_request',
        message: "'message' must be one text field",
      });
      expect(await calls(), 'LLM calls').to.equal(before);
    });
  }

  it('the key never reaches a response or a log line on success', async () => {
    const res = await postJson(app.url, { messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).to.equal(200);
    expect(await res.text()).not.to.include(KEY);
    expect(app.lines.join('\n')).not.to.include(KEY);
  });
});

describe('/chat with models of several providers in one instance (a gateway)', () => {
  // The user's models file adds acme/shared-7b and mistralai/shared-7b: one bare name, two providers.
  const withUserModels = loadCatalog({
    modelsFile: join(
      projectRoot,
      'packages',
      'carbonscope',
      'test',
      'fixtures',
      'llm',
      'extra-models.json',
    ),
  });
  let mock: MockLlm;
  let app: ChatApp & { meter: Carbonscope };
  before(async () => {
    mock = await startMockLlm({ port: 0, latencyMs: 5 });
    app = await startChatApp(`${mock.url}/v1`, 5000, withUserModels);
  });
  after(async () => {
    await app.close();
    await mock.close();
  });
  const chat = async (model: string) => {
    const res = await postJson(app.url, { model, messages: [{ role: 'user', content: 'hi' }] });
    return { status: res.status, body: (await res.json()) as ChatBody & { message: unknown } };
  };

  it('prices each model with its own provider: figures, data centre and mix, and labels', async () => {
    const mistral = await chat('mistralai/mistral-large-latest');
    const openai = await chat('gpt-4o');
    const claude = await chat('claude-sonnet-4-5');
    const mine = await chat('acme-chat-1');
    for (const r of [mistral, openai, claude, mine]) expect(r.status).to.equal(200);
    const seen = [mistral, openai, claude, mine].map((r) => [r.body.provider, r.body.impacts.zone]);
    expect(seen).to.deep.equal([
      ['mistralai', 'SWE'],
      ['openai', 'USA'],
      ['anthropic', 'USA'],
      ['acme', 'FRA'],
    ]);
    const expected = llmImpacts(withUserModels, {
      provider: 'mistralai',
      model: 'mistral-large-latest',
      outputTokens: mistral.body.usage.completionTokens,
      requestLatencySeconds: mistral.body.latencySeconds,
    });
    expect(mistral.body.impacts.gwp).to.deep.equal(expected.gwp);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    for (const r of [mistral, openai, claude, mine]) {
      const labels = {
        gen_ai_provider_name: semconvProvider(r.body.provider),
        gen_ai_request_model: r.body.model,
      };
      expect(
        findSample(text, 'gen_ai_client_token_usage_sum', {
          ...labels,
          gen_ai_token_type: 'input',
        }),
      ).to.equal(r.body.usage.promptTokens);
      expect(
        findSample(text, 'carbonscope_llm_wcf_L_total', { ...labels, carbonscope_bound: 'max' }),
      ).to.be.closeTo(
        toRange(r.body.impacts.wcf.value).max,
        toRange(r.body.impacts.wcf.value).max * 1e-9,
      );
    }
  });

  it('a bare name two providers have is a 400 listing the candidates; either full id works', async () => {
    const twin = await chat('shared-7b');
    expect(twin.status).to.equal(400);
    expect(twin.body).to.deep.equal({
      error: 'ambiguous_model',
      message: 'model "shared-7b" is ambiguous: name one of acme/shared-7b, mistralai/shared-7b',
    });
    expect((await chat('acme/shared-7b')).body.provider).to.equal('acme');
    expect((await chat('mistralai/shared-7b')).body.provider).to.equal('mistralai');
  });
});

describe('/chat when the LLM service fails', () => {
  const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] };
  let stub: StubUpstream | undefined;
  let slow: MockLlm | undefined;
  let app: ChatApp | undefined;
  afterEach(async () => {
    await app?.close();
    await stub?.close();
    await slow?.close();
    app = stub = slow = undefined;
  });

  it('an upstream 500 becomes 502 with a clear message', async () => {
    stub = await startStubUpstream(failWith(500));
    app = await startChatApp(stub.baseUrl);
    const res = await postJson(app.url, ask);
    expect(res.status).to.equal(502);
    expect(await res.json()).to.deep.equal({
      error: 'upstream_error',
      message: 'the LLM service answered with status 500',
    });
    expect(stub.requests).to.be.at.most(2);
    // A browser's form: the page, its title saying it is an error.
    const page = await fetch(`${app.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'message=hi&model=gpt-4o',
    });
    expect(page.status).to.equal(502);
    expect(await page.text()).to.include('<title>Error: Chat · carbonscope</title>');
  });

  // A model that declines answers 200 with `content` null and its reason in `refusal`: the
  // page showed an empty answer, and the JSON dropped the reason.
  it("a model's refusal reaches the JSON and the page, escaped", async () => {
    stub = await startStubUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const message = { role: 'assistant', content: null, refusal: 'No <b>way</b>.' };
      const choices = [{ index: 0, finish_reason: 'stop', message }];
      const usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, choices, usage }));
    });
    app = await startChatApp(stub.baseUrl);
    const res = await postJson(app.url, ask);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as ChatBody;
    expect(body.message).to.deep.equal({
      role: 'assistant',
      content: '',
      refusal: 'No <b>way</b>.',
    });
    const page = await fetch(`${app.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'message=hi&model=gpt-4o',
    });
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include(
      '<p class="pre" dir="auto">The model declined: No &lt;b&gt;way&lt;/b&gt;.</p>',
    );
  });

  it('a slow upstream becomes 504', async () => {
    slow = await startMockLlm({ port: 0, latencyMs: 10_000 });
    app = await startChatApp(`${slow.url}/v1`, 150);
    const res = await postJson(app.url, ask);
    expect(res.status).to.equal(504);
    expect(await res.json()).to.deep.equal({
      error: 'upstream_timeout',
      message: 'the LLM service did not answer within 150 ms',
    });
  });

  it('a redirect is not followed: 502, and neither the key nor the prompt goes where it points', async () => {
    // fetch drops Authorization on a hop to another origin, but would send the conversation on.
    const elsewhere = await startStubUpstream(failWith(500));
    try {
      stub = await startStubUpstream((_req, res) => {
        res.writeHead(307, { location: `${elsewhere.baseUrl}/chat/completions` });
        res.end();
      });
      app = await startChatApp(stub.baseUrl);
      const res = await postJson(app.url, ask);
      expect(res.status).to.equal(502);
      expect(await res.json()).to.deep.equal({
        error: 'upstream_error',
        message: 'the LLM service answered with a redirect (status 307), not followed',
      });
      expect(elsewhere.requests).to.equal(0);
      expect(stub.requests).to.equal(1);
    } finally {
      await elsewhere.close();
    }
  });

  it('a 401 that echoes the key: 502, and the key is in neither the response nor the log', async () => {
    stub = await startStubUpstream(echoKeyIn401);
    app = await startChatApp(stub.baseUrl);
    const res = await postJson(app.url, ask);
    expect(res.status).to.equal(502);
    const text = await res.text();
    expect(text).to.include('401');
    expect(text).not.to.include(KEY);
    expect(app.lines.some((l) => l.includes('LLM service answered with an error'))).to.equal(true);
    expect(app.lines.join('\n')).not.to.include(KEY);
  });
});

describe("/chat metrics tell the bundled mock's figures from a provider's", () => {
  /** Every LLM series /chat records: the five impact counters and the token histogram. */
  const LLM_SERIES = [
    'carbonscope_llm_energy_joules_total',
    'carbonscope_llm_gwp_grams_total',
    'carbonscope_llm_adpe_grams_total',
    'carbonscope_llm_pe_joules_total',
    'carbonscope_llm_wcf_L_total',
    'gen_ai_client_token_usage_sum',
    'gen_ai_client_token_usage_count',
    'gen_ai_client_token_usage_bucket',
  ];
  const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] };
  let app: ChatApp | undefined;
  let stub: StubUpstream | undefined;
  afterEach(async () => {
    await app?.close();
    await stub?.close();
    app = stub = undefined;
  });

  /** One chat, then the LLM samples of /metrics, by name. */
  async function chatAndScrape(on: ChatApp) {
    const res = await postJson(on.url, ask);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as ChatBody;
    const samples = parseSamples(await (await fetch(`${on.url}/metrics`)).text());
    const byName = new Map(
      LLM_SERIES.map((name) => [name, samples.filter((s) => s.name === name)]),
    );
    for (const [name, found] of byName) expect(found, name).to.not.be.empty;
    return { body, byName };
  }

  it('labels every LLM series of the in-process mock carbonscope_mock="true"', async () => {
    app = await startAppWith(async (meter, logger) => {
      const llm = await createLlm({
        config: loadConfig({ MOCK_LLM_LATENCY_MS: '0' }),
        logger,
        meter,
      });
      return { service: llm.service, close: () => llm.close() };
    });
    const { body, byName } = await chatAndScrape(app);
    expect(body.impacts.warnings.map((w) => w.code)).to.include('mock-llm');
    for (const [name, found] of byName) {
      for (const s of found) expect(s.labels, name).to.include({ carbonscope_mock: 'true' });
    }
  });

  it('puts no mock label on the series of an upstream that is no mock', async () => {
    stub = await startStubUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-real',
          object: 'chat.completion',
          created: 0,
          model: 'gpt-4o-2024-08-06',
          system_fingerprint: 'fp_50cad350e4',
          choices: [
            { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hi.' } },
          ],
          usage: { prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 },
        }),
      );
    });
    app = await startChatApp(stub.baseUrl);
    const { body, byName } = await chatAndScrape(app);
    expect(body.impacts.warnings.map((w) => w.code)).not.to.include('mock-llm');
    for (const [name, found] of byName) {
      for (const s of found) expect(Object.keys(s.labels), name).not.to.include('carbonscope_mock');
    }
    expect(
      findSample(await app.metrics.scrape(), 'gen_ai_client_token_usage_sum', {
        gen_ai_token_type: 'input',
      }),
    ).to.equal(8);
  });
});

describe('/chat whose client goes away before the LLM answers', () => {
  const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] };
  let stub: StubUpstream | undefined;
  let app: (ChatApp & { meter: Carbonscope }) | undefined;
  afterEach(async () => {
    await app?.close();
    await stub?.close();
    app = stub = undefined;
  });

  // The call ran on to LLM_TIMEOUT_MS, spending the upstream's quota on an answer nobody would
  // read, and its request was logged as a 504 at error level, where alerts look.
  it('cancels the upstream call, logs it at info, and counts no 5xx and no LLM impacts', async () => {
    let asked!: () => void;
    const reached = new Promise<void>((resolve) => {
      asked = resolve;
    });
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    stub = await startStubUpstream((_req, res) => {
      // Never answers: the client gives up first.
      res.on('close', closed);
      asked();
    });
    // An LLM timeout past mocha's: only the cancellation can close the upstream call in time.
    app = await startChatApp(stub.baseUrl, 600_000);
    const client = new AbortController();
    const request = fetch(`${app.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(ask),
      signal: client.signal,
    }).catch((err: unknown) => err);
    await reached;
    client.abort();
    await request;
    // Not cancelled, the call would be held past mocha's timeout, which then fails the test.
    await upstreamClosed;
    await new Promise((r) => setTimeout(r, 100));
    await nextSample(app.meter);
    await nextSample(app.meter);

    const logged = app.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.filter((l) => (l.level as number) >= 50)).to.deep.equal([]);
    const cancelled = logged.filter((l) => l.msg === 'LLM call cancelled: the client went away');
    expect(cancelled.map((l) => l.level)).to.deep.equal([30]);
    const requestLines = logged.filter((l) => l.msg === 'request' && l.path === '/chat');
    expect(requestLines.map((l) => `${l.level} ${l.status}`)).to.deep.equal(['30 499']);

    const samples = parseSamples(await app.metrics.scrape());
    expect(chatRequestsCounted(samples)).to.deep.equal(['- _OTHER']);
    expect(samples.filter((s) => s.name.startsWith('gen_ai_client_token_usage'))).to.deep.equal([]);
    expect(samples.filter((s) => s.name.startsWith('carbonscope_llm_'))).to.deep.equal([]);
    // The energy spent on it stays counted: the chat's and its request's.
    const footprints = samples
      .filter((s) => s.name === 'carbonscope_operation_emissions_grams_count')
      .filter((s) => s.labels.carbonscope_phase === 'usage')
      .map((s) => `${s.labels.carbonscope_operation} ${s.value}`);
    expect(footprints).to.have.members(['chat 1', '/chat 1']);
  });
});

describe('/chat cut by the shutdown', () => {
  // The drain's end cut the chat's connection: the client got no answer (a reset), and the
  // request was logged as a 499, "the client went away", which it had not.
  it("answers 503 with Connection: close, and logs the cut as the shutdown's, not the client's", async () => {
    let asked!: () => void;
    const reached = new Promise<void>((resolve) => {
      asked = resolve;
    });
    // Never answers: the drain ends first.
    const stub = await startStubUpstream(() => asked());
    const app = await startChatApp(stub.baseUrl, 10_000);
    try {
      // Installed as the service installs it, before the first connection: it tracks them.
      const shutdownLog = captureLogger();
      let exit!: (code: number) => void;
      const exited = new Promise<number>((resolve) => {
        exit = resolve;
      });
      const shutdown = installShutdown({
        server: app.server,
        parts: [],
        flush: { name: 'flush', close: async () => undefined },
        logger: shutdownLog.logger,
        drainMs: 200,
        graceMs: 5000,
        exit,
      });
      const answer = fetch(`${app.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'still there?' }] }),
      });
      await reached;
      void shutdown.stop('SIGTERM');
      const res = await answer;
      expect(res.status).to.equal(503);
      expect(res.headers.get('connection')).to.equal('close');
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).to.equal('unavailable');
      expect(body.message).to.match(/shutting down/);
      expect(await exited).to.equal(0);
      await new Promise((r) => setTimeout(r, 100));
      await nextSample(app.meter);

      // The shutdown's warning and the request's line tell one story: cut, answered 503.
      const warned = shutdownLog.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.level === 40);
      expect(warned.map((l) => [l.msg, l.cut, l.answered503])).to.deep.equal([
        [
          'requests still running at the end of the drain were cut: answered 503 where no answer had begun',
          1,
          1,
        ],
      ]);
      const logged = app.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const requestLines = logged.filter((l) => l.msg === 'request' && l.path === '/chat');
      expect(requestLines.map((l) => `${l.level} ${l.status} ${l.cutBy}`)).to.deep.equal([
        '40 503 shutdown',
      ]);
      expect(logged.filter((l) => l.status === 499)).to.deep.equal([]);
      expect(logged.filter((l) => /went away/.test(String(l.msg)))).to.deep.equal([]);
      const cancelled = logged.filter((l) => String(l.msg).startsWith('LLM call cancelled'));
      expect(cancelled.map((l) => l.msg)).to.deep.equal([
        'LLM call cancelled: the shutdown cut the request',
      ]);
      const samples = parseSamples(await app.metrics.scrape());
      expect(chatRequestsCounted(samples)).to.deep.equal(['503 503']);
    } finally {
      await app.close().catch(() => {});
      await stub.close();
    }
  });

  // Cut while the app read its body, the request's line came tens of ms after the connection
  // closed, and the server's close let the process exit first: the service wrote no line of it.
  it('logs the line of a request cut while its body was read before the process exits', async () => {
    const stub = await startStubUpstream(() => {});
    const app = await startChatApp(stub.baseUrl, 10_000);
    try {
      let linesAtExit: string[] = [];
      const exited = new Promise<number>((resolve) => {
        const shutdown = installShutdown({
          server: app.server,
          parts: [],
          flush: { name: 'flush', close: async () => undefined },
          logger: captureLogger().logger,
          drainMs: 200,
          graceMs: 5000,
          exit: (code) => {
            linesAtExit = [...app.lines];
            resolve(code);
          },
        });
        const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
        socket.on('data', () => {}).on('error', () => {});
        socket.write(
          'POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mes',
        );
        setTimeout(() => void shutdown.stop('SIGTERM'), 50);
      });
      expect(await exited).to.equal(0);
      const requestLines = linesAtExit
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'request');
      expect(requestLines.map((l) => `${l.level} ${l.status} ${l.cutBy}`)).to.deep.equal([
        '40 503 shutdown',
      ]);
    } finally {
      await app.close().catch(() => {});
      await stub.close();
    }
  });
});
