import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { clientError, codePoints, firstCodePoints, HttpError, wellFormed } from '../http/index.js';
import {
  type ActivityClassifier,
  LABELS,
  ModelNotLoadedError,
  type Prediction,
} from '../predict/index.js';
import {
  alertText,
  figureLabel,
  formatNumber,
  html,
  isolated,
  page,
  type SafeHtml,
  wantsHtml,
} from '../views/index.js';
import { bodyRead } from './body-read.js';
import { pathRouter } from './router.js';

export const MAX_ACTIVITY_CHARS = 500;

const EXAMPLES = [
  'driving 10 hours',
  'cycling to work',
  'eating 200 grams of beef',
  'running the heater for 8 hours',
  'buying a new laptop',
];

/**
 * The field's constraint, counted as the server counts: characters (code points, which a pattern
 * matches one each), around spaces the server trims. maxlength counts UTF-16 units: 300 emoji,
 * which the server takes, were cut to 250 as they were typed.
 */
const FIELD_PATTERN = `\\s*[\\s\\S]{1,${MAX_ACTIVITY_CHARS}}\\s*`;

/** The activity from a JSON body `{activity}` or the page's form; throws HttpError. */
function readActivity(ctx: Context): string {
  if (ctx.is('json', 'urlencoded') === false) {
    throw new HttpError(
      415,
      'send JSON {"activity": "..."} as application/json, or the form as application/x-www-form-urlencoded',
    );
  }
  const body = ctx.request.body as unknown;
  if (body === undefined || body === null) {
    throw new HttpError(400, 'missing body: send JSON {"activity": "driving 10 hours"}');
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'the JSON body must be an object {"activity": "..."}');
  }
  const activity = (body as Record<string, unknown>).activity;
  if (activity === undefined || activity === null) {
    throw new HttpError(
      400,
      '\'activity\' is missing: describe an activity, e.g. "driving 10 hours"',
    );
  }
  if (typeof activity !== 'string') throw new HttpError(400, "'activity' must be a string");
  // Echoed in the answer: half a surrogate pair (JSON's "\ud800") is no text UTF-8 can hold.
  const text = wellFormed(activity.trim());
  if (text === '') throw new HttpError(400, "'activity' is empty: describe an activity");
  // UTF-16 length is never under the code points: the usual short text is not counted again.
  const length = text.length <= MAX_ACTIVITY_CHARS ? text.length : codePoints(text);
  if (length > MAX_ACTIVITY_CHARS) {
    throw new HttpError(
      400,
      `'activity' is ${length} characters long; the limit is ${MAX_ACTIVITY_CHARS}`,
    );
  }
  return text;
}

/**
 * The activity a refused form sent, for its field: what the user wrote is not lost with the
 * error. Cut to the limit (never inside an emoji), so the form sent again is not refused for it.
 */
function sentActivity(ctx: Context): string {
  const activity = (ctx.request.body as { activity?: unknown } | undefined)?.activity;
  if (typeof activity !== 'string') return '';
  return firstCodePoints(wellFormed(activity.trim()), MAX_ACTIVITY_CHARS);
}

function resultSection(activity: string, model: string, p: Prediction): SafeHtml {
  const rows = LABELS.map(
    (l) =>
      html`<tr><th scope="row">${l}</th><td>${(p.probabilities[l] * 100).toFixed(1)} %</td></tr>`,
  );
  return html`<section>
<h2>Result</h2>
<p>“${isolated(activity)}” is <strong>${p.label}</strong> carbon intensity.</p>
<table><thead><tr><th>Label</th><th>Probability</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Model ${model} · ${formatNumber(p.durationMs)} ms · ${formatNumber(p.energyJoules)} J, ${formatNumber(p.emissionsGrams)} gCO2e for this inference${figureLabel({ estimated: p.energyEstimated, provisional: p.energyProvisional })}, plus ${formatNumber(p.embodiedGrams)} gCO2e of its hardware's manufacture (estimated): SCI ${p.sci.gramsPerUnit === null ? 'unknown' : `${formatNumber(p.sci.gramsPerUnit)} gCO2e`} per inference</p>
</section>`;
}

function formPage(activity: string, extra: SafeHtml | string = '', error = false): string {
  const examples = EXAMPLES.map((e) => html`<li>${e}</li>`);
  return page(
    '/predict',
    'Predict',
    html`<p>Classifies an activity as low, middle or high carbon intensity with a small neural
network run by onnxruntime-node. The energy of each inference is measured by this service.</p>
<form method="post" action="./predict">
<label for="activity">Activity</label><br>
<input id="activity" name="activity" dir="auto" pattern="${FIELD_PATTERN}" title="at most ${MAX_ACTIVITY_CHARS} characters" size="50" required value="${activity}">
<button type="submit">Classify</button>
</form>
<p class="muted">Try:</p><ul class="muted">${examples}</ul>
${extra}`,
    { error },
  );
}

/**
 * GET /predict (form page, or a JSON description) and POST /predict (JSON or form), whose body
 * `readBody` parses.
 */
export function predictRoutes(classifier: ActivityClassifier, readBody: Middleware): Router {
  const router = pathRouter();

  router.get('/predict', (ctx) => {
    if (wantsHtml(ctx)) {
      ctx.type = 'html';
      ctx.body = formPage('');
      return;
    }
    ctx.body = {
      model: classifier.model || null,
      labels: LABELS,
      usage: 'POST /predict with JSON {"activity": "driving 10 hours"}',
      maxActivityChars: MAX_ACTIVITY_CHARS,
    };
  });

  router.post('/predict', async (ctx) => {
    const asHtml = wantsHtml(ctx);
    let activity: string;
    let prediction: Prediction;
    try {
      // Read here, not as the route's middleware: what the parser refuses (413, 415, no UTF-8)
      // reaches a browser as the form page, as the route's own refusals do, not as JSON.
      await readBody(ctx, bodyRead);
      activity = readActivity(ctx);
      prediction = await classifier.classify(activity);
    } catch (err) {
      // The model loads in about a second: tell clients when to come back.
      if (err instanceof ModelNotLoadedError) ctx.set('Retry-After', '1');
      const shown = asHtml ? clientError(err) : undefined;
      if (!shown) throw err;
      ctx.status = shown.status;
      ctx.type = 'html';
      ctx.body = formPage(
        sentActivity(ctx),
        html`<p role="alert"><strong>${alertText(shown.message)}</strong></p>`,
        true,
      );
      return;
    }
    const model = classifier.model;
    if (asHtml) {
      ctx.type = 'html';
      // The field as sent, so the form sends it again; isolated (dir=auto, <bdi>) where shown.
      ctx.body = formPage(activity, resultSection(activity, model, prediction));
      return;
    }
    ctx.body = {
      activity,
      label: prediction.label,
      probabilities: prediction.probabilities,
      model,
      durationMs: prediction.durationMs,
      energyJoules: prediction.energyJoules,
      emissionsGrams: prediction.emissionsGrams,
      embodiedGrams: prediction.embodiedGrams,
      sci: prediction.sci,
      energyEstimated: prediction.energyEstimated,
      energyProvisional: prediction.energyProvisional,
    };
  });

  return router;
}
