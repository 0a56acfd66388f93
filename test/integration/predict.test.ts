import type { Carbonscope } from 'carbonscope';
import { expect } from 'chai';
import { createTestMetrics } from '#library-tests/helpers/metrics.js';
import { OnnxActivityClassifier } from '../../src/predict/classifier.js';
import { MAX_ACTIVITY_CHARS } from '../../src/routes/predict.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { nextSample, startEstimatedMeter } from '../helpers/energy.js';
import { postActivity } from '../helpers/predict-request.js';

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** The activity field's value as a browser reads it from the page's markup. */
function fieldValue(page: string): string {
  const value = /<input id="activity"[^>]* value="([^"]*)"/.exec(page)?.[1];
  if (value === undefined) throw new Error('no activity field in the page');
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => entities[e] ?? e);
}

describe('POST/GET /predict (real app, committed model, real energy meter)', () => {
  let app: TestApp;
  let energy: Carbonscope;
  let classifier: OnnxActivityClassifier;
  const metrics = createTestMetrics();

  before(async () => {
    energy = await startEstimatedMeter(metrics);
    classifier = new OnnxActivityClassifier({ tracker: energy, meter: metrics.meter });
    app = await startTestApp({ predict: classifier });
    app.readiness.waitFor('model', classifier.load());
  });

  after(async () => {
    await app.close();
    await classifier.close();
    await energy.stop();
    await metrics.shutdown();
  });

  function post(body: string, type: string | undefined, accept = JSON_TYPE) {
    const headers: Record<string, string> = { accept };
    if (type) headers['content-type'] = type;
    return fetch(`${app.url}/predict`, { method: 'POST', headers, body });
  }

  const postJson = (value: unknown) => post(JSON.stringify(value), JSON_TYPE);

  async function expectError(res: Response, status: number, message: RegExp): Promise<void> {
    expect(res.status).to.equal(status);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.message).to.match(message);
  }

  it('is ready once the model session is created', async () => {
    await classifier.load();
    await new Promise((resolve) => setImmediate(resolve));
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).to.equal(200);
  });

  it('classifies "driving 10 hours" as high, with the energy of the inference', async () => {
    const inference = { carbonscope_operation: 'inference' };
    const energyBefore =
      (await metrics.value('carbonscope_operation_energy_joules_sum', inference)) ?? 0;
    const res = await postJson({ activity: 'driving 10 hours' });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.activity).to.equal('driving 10 hours');
    expect(body.label).to.equal('high');
    expect(body.model)
      .to.equal(classifier.model)
      .and.match(/^activity-mlp@[0-9a-f]{12}$/);
    const p = body.probabilities as Record<string, number>;
    expect(Object.keys(p)).to.deep.equal(['low', 'middle', 'high']);
    expect(p.high).to.be.greaterThan(0.5);
    expect(body.durationMs).to.be.a('number').greaterThan(0);
    // The answer's figure is provisional (priced at the last sample's rate): never nothing.
    expect(body.energyJoules).to.be.a('number').greaterThan(0);
    expect(body.energyEstimated).to.equal(true);
    expect(body.energyProvisional).to.equal(true);
    // Its share of the hardware's embodied emissions, and the SCI of one inference.
    const embodied = body.embodiedGrams as number;
    expect(embodied).to.be.a('number').greaterThan(0);
    expect(body.sci).to.deep.equal({
      operationalGrams: body.emissionsGrams,
      embodiedGrams: embodied,
      units: 1,
      gramsPerUnit: (body.emissionsGrams as number) + embodied,
      estimated: true,
    });
    // The next sample settles it, and the histogram records the settled figure.
    await nextSample(energy);
    const energyAfter = await metrics.value('carbonscope_operation_energy_joules_sum', inference);
    expect(energyAfter).to.be.greaterThan(energyBefore);
  });

  it('classifies "cycling to work" as low and counts predictions by label', async () => {
    const before =
      (await metrics.value('carbonscope_predictions_total', {
        carbonscope_prediction_label: 'low',
      })) ?? 0;
    const durations = { carbonscope_model: classifier.model };
    const inference = { carbonscope_operation: 'inference' };
    const durationsBefore =
      (await metrics.value('carbonscope_inference_duration_seconds_count', durations)) ?? 0;
    const inferencesBefore =
      (await metrics.value('carbonscope_operation_energy_joules_count', inference)) ?? 0;
    const res = await postJson({ activity: 'cycling to work' });
    expect(((await res.json()) as { label: string }).label).to.equal('low');
    await nextSample(energy);
    expect(
      await metrics.value('carbonscope_predictions_total', {
        carbonscope_model: classifier.model,
        carbonscope_prediction_label: 'low',
      }),
    ).to.equal(before + 1);
    expect(await metrics.value('carbonscope_inference_duration_seconds_count', durations)).to.equal(
      durationsBefore + 1,
    );
    expect(await metrics.value('carbonscope_operation_energy_joules_count', inference)).to.equal(
      inferencesBefore + 1,
    );
  });

  it('serves the form page to browsers and a description to API clients', async () => {
    const page = await fetch(`${app.url}/predict`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).to.match(/text\/html/);
    const text = await page.text();
    expect(text).to.include('<form method="post" action="./predict">');
    expect(text).to.include('<title>Predict · carbonscope</title>');
    // The page counts as the server does: characters, not maxlength's UTF-16 units.
    expect(text).to.include(`pattern="\\s*[\\s\\S]{1,${MAX_ACTIVITY_CHARS}}\\s*"`);
    expect(text).not.to.include('maxlength');
    const api = await fetch(`${app.url}/predict`, { headers: { accept: JSON_TYPE } });
    const body = (await api.json()) as { labels: string[]; model: string };
    expect(body.labels).to.deep.equal(['low', 'middle', 'high']);
    expect(body.model).to.equal(classifier.model);
  });

  it('answers the form with an HTML page that shows the result', async () => {
    const res = await post('activity=driving+10+hours', FORM_TYPE, 'text/html');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/text\/html/);
    const text = await res.text();
    expect(text).to.include('<strong>high</strong>');
    expect(text).to.include('<title>Predict · carbonscope</title>');
    expect(text).to.include('value="driving 10 hours"');
    // The answer's figure is the provisional one the JSON flags (energyProvisional): the
    // dashboard and the metrics show the settled one, which differed up to 3× per inference.
    expect(text).to.match(
      /[\d.e-]+ J, [\d.e-]+ gCO2e for this inference \(estimated; provisional, settled at the next sample\)/,
    );
  });

  it('shows a <script> activity as text and never runs it', async () => {
    const activity = '<script>alert("x")</script> driving 10 hours';
    const res = await post(`activity=${encodeURIComponent(activity)}`, FORM_TYPE, 'text/html');
    const text = await res.text();
    expect(text).to.not.include('<script>alert');
    expect(text).to.include('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; driving 10 hours');
    const json = await postJson({ activity });
    expect(json.headers.get('content-type')).to.match(/application\/json/);
  });

  // An override in the activity reversed what the page showed of it; then shown as escapes,
  // which widened the field past its maxlength (a 400 when the form was sent again) and turned
  // the marks a right-to-left writer types into \u200f. Isolated instead: <bdi>, dir=auto.
  it('quotes the activity in <bdi> and fills the field with it as sent', async () => {
    const activity = 'driving \u202e10 hours\u2066 \u200fساعات';
    const res = await post(`activity=${encodeURIComponent(activity)}`, FORM_TYPE, 'text/html');
    expect(res.status).to.equal(200);
    const text = await res.text();
    // The isolate left open is closed within the <bdi>: the sentence after it stays out.
    expect(text).to.include(`“<bdi>${activity}\u2069</bdi>”`);
    expect(text).to.match(/<input id="activity" name="activity" dir="auto" [^>]*>/);
    expect(fieldValue(text)).to.equal(activity);
  });

  it("takes its own form's field back, marks and all, at the maximum length", async () => {
    // 34 right-to-left marks: as escapes (\u200f) the field held 670 characters.
    const activity = '\u200fقيادة 10 ساعات'.repeat(34).slice(0, MAX_ACTIVITY_CHARS).trim();
    const first = await post(`activity=${encodeURIComponent(activity)}`, FORM_TYPE, 'text/html');
    expect(first.status).to.equal(200);
    const again = fieldValue(await first.text());
    const second = await post(`activity=${encodeURIComponent(again)}`, FORM_TYPE, 'text/html');
    expect(second.status, 'the form sent again').to.equal(200);
    expect(again).to.equal(activity);
    expect(fieldValue(await second.text())).to.equal(activity);
  });

  // JSON lets a client send half a pair: echoed as sent, the answer's activity said "\ud800".
  it('echoes an activity with a lone surrogate as U+FFFD', async () => {
    const res = await postJson({ activity: '\ud800 driving 10 hours' });
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { activity: string }).activity).to.equal(
      '\ufffd driving 10 hours',
    );
  });

  it('accepts exactly the maximum length', async () => {
    const activity = 'driving 10 hours '
      .repeat(40)
      .slice(0, MAX_ACTIVITY_CHARS - 1)
      .concat('x');
    expect(activity).to.have.length(MAX_ACTIVITY_CHARS);
    expect((await postJson({ activity })).status).to.equal(200);
  });

  describe('bad input', () => {
    it('missing activity -> 400', async () => {
      await expectError(await postJson({}), 400, /'activity' is missing/);
      await expectError(await postJson({ activity: null }), 400, /'activity' is missing/);
      await expectError(await post('', FORM_TYPE), 400, /'activity' is missing/);
    });

    it('empty or blank activity -> 400', async () => {
      await expectError(await postJson({ activity: '' }), 400, /'activity' is empty/);
      await expectError(await postJson({ activity: ' \n\t ' }), 400, /'activity' is empty/);
    });

    it('non-string activity -> 400', async () => {
      await expectError(await postJson({ activity: 42 }), 400, /must be a string/);
      await expectError(await postJson({ activity: ['driving'] }), 400, /must be a string/);
      await expectError(await postJson({ activity: { text: 'x' } }), 400, /must be a string/);
      await expectError(await post('activity=a&activity=b', FORM_TYPE), 400, /must be a string/);
    });

    it('a JSON body that is not an object -> 400', async () => {
      await expectError(await postJson(['driving 10 hours']), 400, /must be an object/);
    });

    // Valid JSON the parser refuses is not "not valid JSON": the client is told what to change.
    for (const body of ['"driving 10 hours"', 'null', '123', ' true ']) {
      it(`a JSON ${body.trim()} body -> 400 "must be a JSON object"`, async () => {
        const res = await post(body, JSON_TYPE);
        expect(res.status).to.equal(400);
        expect(await res.json()).to.deep.equal({
          error: 'bad_request',
          message: 'request body must be a JSON object',
        });
      });
    }

    it('a JSON body with a __proto__ key, at any depth -> 400 naming the key', async () => {
      for (const body of ['{"activity":"x","__proto__":{}}', '{"a":{"__proto__":{"b":1}}}']) {
        const res = await post(body, JSON_TYPE);
        expect(res.status).to.equal(400);
        expect(await res.json()).to.deep.equal({
          error: 'bad_request',
          message: 'request body has a forbidden key __proto__',
        });
      }
    });

    it('text that is not JSON at all -> 400 "not valid JSON"', async () => {
      await expectError(await post('driving 10 hours', JSON_TYPE), 400, /not valid JSON/);
    });

    it(`over ${MAX_ACTIVITY_CHARS} characters -> 400`, async () => {
      const activity = 'a'.repeat(MAX_ACTIVITY_CHARS + 1);
      await expectError(await postJson({ activity }), 400, /501 characters long; the limit is 500/);
      // Counted in characters, not UTF-16 units: 300 bicycles are 300 characters.
      expect((await postJson({ activity: `cycling ${'🚲'.repeat(300)}` })).status).to.equal(200);
    });

    it('no word or number to classify -> 400', async () => {
      await expectError(await postJson({ activity: '!!! ???' }), 400, /no words or numbers/);
    });

    it('broken JSON -> 400', async () => {
      await expectError(await post('{"activity": "driv', JSON_TYPE), 400, /not valid JSON/);
    });

    it('wrong content type -> 415', async () => {
      await expectError(await post('driving 10 hours', 'text/plain'), 415, /application\/json/);
      await expectError(await post('<a>x</a>', 'application/xml'), 415, /application\/json/);
    });

    it("a body over the app's limit -> 413", async () => {
      const big = JSON.stringify({ activity: 'x'.repeat(app.config.bodyLimitBytes + 10) });
      await expectError(await post(big, JSON_TYPE), 413, /larger than the limit/);
      const form = `activity=${'x'.repeat(app.config.bodyLimitBytes + 10)}`;
      await expectError(await post(form, FORM_TYPE), 413, /larger than the limit/);
    });

    it('a bad form from a browser gets the form page back with the message', async () => {
      const res = await post('activity=+', FORM_TYPE, 'text/html');
      expect(res.status).to.equal(400);
      const text = await res.text();
      expect(text).to.include('role="alert"');
      expect(text).to.include('&#39;activity&#39; is empty');
      // Screen readers announce the title first: it said "Predict" over an error.
      expect(text).to.include('<title>Error: Predict · carbonscope</title>');
    });

    // The parser's refusals went past the route's catch: a browser got JSON, not its form.
    it("a browser's form over the limit or no UTF-8 gets the form page, status kept", async () => {
      const big = `activity=${'x'.repeat(app.config.bodyLimitBytes + 10)}`;
      for (const [body, status, message] of [
        [big, 413, `larger than the limit of ${app.config.bodyLimitBytes} bytes`],
        [Buffer.from('activity=caf\u00e9', 'latin1'), 400, 'not valid UTF-8'],
      ] as const) {
        const res = await fetch(`${app.url}/predict`, {
          method: 'POST',
          headers: { accept: 'text/html', 'content-type': FORM_TYPE },
          body,
        });
        expect(res.status).to.equal(status);
        expect(res.headers.get('content-type')).to.match(/^text\/html/);
        const text = await res.text();
        expect(text).to.include('<title>Error: Predict · carbonscope</title>');
        expect(text).to.match(new RegExp(`role="alert"><strong>[^<]*${message}`));
        expect(text, 'the form, to send again').to.include('<input id="activity" name="activity"');
      }
    });

    // The field came back empty: what the user wrote was lost with the 400.
    it('gives the field back as sent with a 400, cut to the limit before an emoji', async () => {
      const nothing = await post('activity=!!!+???', FORM_TYPE, 'text/html');
      expect(nothing.status).to.equal(400);
      expect(fieldValue(await nothing.text())).to.equal('!!! ???');
      const long = `${'a'.repeat(MAX_ACTIVITY_CHARS - 1)}🚲🚲`;
      const res = await post(`activity=${encodeURIComponent(long)}`, FORM_TYPE, 'text/html');
      expect(res.status).to.equal(400);
      const again = fieldValue(await res.text());
      expect(again).to.equal(`${'a'.repeat(MAX_ACTIVITY_CHARS - 1)}🚲`);
      // The page's own form, sent again as it came back.
      const second = await post(`activity=${encodeURIComponent(again)}`, FORM_TYPE, 'text/html');
      expect(second.status).to.equal(200);
    });
  });

  it('answers 503 with Retry-After while the model is still loading', async () => {
    const loading = new OnnxActivityClassifier({ tracker: energy, meter: metrics.meter });
    const other = await startTestApp({ predict: loading });
    try {
      const res = await postActivity(other.url);
      expect(res.headers.get('retry-after')).to.equal('1');
      await expectError(res, 503, /not loaded yet/);
      const page = await fetch(`${other.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': FORM_TYPE, accept: 'text/html' },
        body: 'activity=driving+10+hours',
      });
      expect(page.status).to.equal(503);
      expect(fieldValue(await page.text()), 'the field to send again').to.equal('driving 10 hours');
    } finally {
      await other.close();
    }
  });
});
