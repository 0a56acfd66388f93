import type Router from '@koa/router';
import type { GridIntensity, IntensityHistory, IntensityReading } from 'carbonscope';
import { InvalidZoneError, ZONE_PATTERN, zoneKeyCase } from 'carbonscope';
import type { Context } from 'koa';
import { clientError, HttpError, queryParam, withBidiShown } from '../http/index.js';
import {
  alertText,
  html,
  page,
  rootFrom,
  type SafeHtml,
  scrollingTable,
  wantsHtml,
} from '../views/index.js';
import { pathRouter } from './router.js';

/** A page of these routes: its path (its links are relative to it) and its title. */
interface PageOf {
  path: string;
  title: string;
}

const CURRENT: PageOf = { path: '/carbon_intensity', title: 'Grid carbon intensity' };
const HISTORY: PageOf = {
  path: '/carbon_intensity/history',
  title: 'Grid carbon intensity, last 24 h',
};
/** The current page's links, named from the history page (one level deeper). */
const FROM_HISTORY = rootFrom(HISTORY.path);

/**
 * `GET /carbon_intensity` and `GET /carbon_intensity/history`: JSON for API clients, a page
 * with a zone form for browsers. Zone keys are upper-cased first, so `?zone=de` means DE.
 */
export function carbonIntensityRoutes(grid: GridIntensity): Router {
  const router = pathRouter();

  // A remembered answer is served without an await: each one the lookup took was a microtask
  // turn of every request. Made once: a JSON answer allocates no closure of its own.
  const current = (zone: string): IntensityReading | Promise<IntensityReading> =>
    grid.currentAtHand?.(zone) ?? grid.current(zone);
  const history = (zone: string): Promise<IntensityHistory> => grid.history(zone);

  router.get('/carbon_intensity', (ctx) =>
    serve(ctx, grid.defaultZone, CURRENT, current, currentView),
  );
  router.get('/carbon_intensity/history', (ctx) =>
    serve(ctx, grid.defaultZone, HISTORY, history, historyView),
  );

  return router;
}

/**
 * Runs one lookup and answers it as JSON or as a page; browsers see errors on the page too. The
 * page is rendered (`view`) only for a browser: escaping it for every JSON answer cost ~5 µs.
 */
async function serve<T extends object>(
  ctx: Context,
  defaultZone: string,
  where: PageOf,
  work: (zone: string) => T | Promise<T>,
  view: (answer: T) => SafeHtml,
): Promise<void> {
  const browser = wantsHtml(ctx);
  try {
    const pending = work(zoneParam(ctx, defaultZone));
    const answer = pending instanceof Promise ? await pending : pending;
    ctx.set('Cache-Control', 'no-store');
    if (browser) {
      ctx.type = 'html';
      ctx.body = page(where.path, where.title, view(answer));
    } else {
      ctx.body = answer;
    }
  } catch (err) {
    if (!browser) throw err;
    const raw = typeof ctx.query.zone === 'string' ? ctx.query.zone : defaultZone;
    renderError(ctx, err, raw, where);
  }
}

/**
 * The zone asked for, normalised; empty or invalid shapes, and a zone given twice or as `zone[]`,
 * are refused here with the expected format.
 */
function zoneParam(ctx: Context, fallback: string): string {
  refuseUpstreamParams(ctx);
  const raw = queryParam(ctx, 'zone');
  if (raw === undefined) return fallback;
  const zone = zoneKeyCase(raw.trim());
  if (zone === '') {
    // Most often a client's unset variable: served the default, it would not know.
    throw new HttpError(
      400,
      `query parameter 'zone' is empty: send a zone key, or no zone parameter for the default zone ${fallback}`,
    );
  }
  if (!ZONE_PATTERN.test(zone)) throw new InvalidZoneError(raw);
  return zone;
}

/**
 * Electricity Maps' own query parameters, lower-cased, which this route does not read: a client
 * written for the API (a location, a past hour, direct factors) would otherwise get the default
 * zone's latest lifecycle value at 200, without a word. Other unread parameters (a cache buster)
 * are served.
 */
const UPSTREAM_PARAMS = new Set([
  'lat',
  'lon',
  'datetime',
  'start',
  'end',
  'emissionfactortype',
  'disableestimations',
  'temporalgranularity',
]);

/** Answers 400 for a parameter of UPSTREAM_PARAMS, in any case of its ASCII letters. */
function refuseUpstreamParams(ctx: Context): void {
  if (ctx.querystring === '') return;
  for (const key in ctx.query) {
    const folded = key.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
    if (!UPSTREAM_PARAMS.has(folded)) continue;
    throw new HttpError(
      400,
      `query parameter '${key}' is not read here: this route answers the latest value (or the last 24 h) of one zone, in lifecycle factors; send zone=<zone key> alone`,
    );
  }
}

const SOURCE_NAMES: Record<IntensityReading['source'], string> = {
  fixed: 'fixed value (CARBON_INTENSITY)',
  'electricity-maps': 'Electricity Maps',
  'annual-average': 'annual average',
  'world-average': 'world average',
};

/**
 * The zone form of the page at `path`, filled with `zone`: what was typed, its bidi controls
 * shown as escapes. It asks for the current value from either page.
 */
function zoneForm(path: string, zone: string): SafeHtml {
  return html`<form method="get" action="${rootFrom(path)}carbon_intensity">
<label>Zone <input name="zone" value="${withBidiShown(zone)}" required pattern="[A-Za-z]{2}(-[A-Za-z0-9]+)*" title="a zone key such as DE, FR, SE-SE3 or US-CAL-CISO" size="14"></label>
<button type="submit">Show</button>
</form>`;
}

/** What a value without a datetime stands for: the averages are yearly; a set value, any time. */
function undated(source: IntensityReading['source']): string {
  return source === 'fixed' ? 'any moment: a set value' : 'a yearly average, not a moment';
}

function currentView(r: IntensityReading): SafeHtml {
  const flags = [
    // isEstimated is false for a fixed value, which no one measured either.
    r.source === 'fixed' ? 'a set value, not a reading' : r.isEstimated ? 'estimated' : 'measured',
    r.stale ? `stale: last good value, ${r.ageSeconds} s old` : '',
  ].filter(Boolean);
  return html`${zoneForm(CURRENT.path, r.zone)}
<p><strong id="intensity">${r.carbonIntensity}</strong> ${r.unit} in zone <strong>${r.zone}</strong></p>
<table>
<tr><th>Source</th><td id="source">${SOURCE_NAMES[r.source]}</td></tr>
<tr><th>Quality</th><td>${flags.join('; ')}</td></tr>
<tr><th>Valid for</th><td>${r.datetime ?? undated(r.source)}</td></tr>
<tr><th>Fetched at</th><td>${r.fetchedAt}</td></tr>
${r.note ? html`<tr><th>Note</th><td>${r.note}</td></tr>` : ''}
</table>
<p><a href="./carbon_intensity/history?zone=${encodeURIComponent(r.zone)}">Last 24 hours</a> · <a href="./carbon_intensity?zone=${encodeURIComponent(r.zone)}" type="application/json" class="muted">JSON: send Accept: application/json</a></p>`;
}

function historyView(h: IntensityHistory): SafeHtml {
  const rows = h.history.map(
    (p) =>
      html`<tr><td>${p.datetime}</td><td>${p.carbonIntensity}</td><td>${p.isEstimated ? 'estimated' : ''}</td></tr>`,
  );
  const body = rows.length
    ? scrollingTable(
        'Last 24 hours',
        html`<table><thead><tr><th>Time (UTC)</th><th>${h.unit}</th><th>Quality</th></tr></thead><tbody>${rows}</tbody></table>`,
      )
    : html`<p>No history for zone ${h.zone}.</p>`;
  return html`${zoneForm(HISTORY.path, h.zone)}
<p>Zone <strong>${h.zone}</strong>, source ${SOURCE_NAMES[h.source]}${h.stale ? ' (stale: last good history)' : ''}</p>
${h.note ? html`<p class="muted">${h.note}</p>` : ''}
${body}
<p><a href="${FROM_HISTORY}carbon_intensity?zone=${encodeURIComponent(h.zone)}">Current value</a></p>`;
}

/** Browsers get the form back with the message, under the same status as the JSON answer. */
function renderError(ctx: Context, err: unknown, zone: string, where: PageOf): void {
  const shown = clientError(err);
  if (!shown) throw err;
  ctx.status = shown.status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = page(
    where.path,
    where.title,
    html`${zoneForm(where.path, zone)}<p role="alert"><strong>${alertText(shown.message)}</strong></p>`,
    { error: true },
  );
}
