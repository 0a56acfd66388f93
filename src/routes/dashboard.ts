import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Router from '@koa/router';
import type { Dashboard } from '../dashboard/index.js';
import { queryParam } from '../http/index.js';
import { sourceAsset } from '../paths.js';
import { html, page } from '../views/index.js';
import { pathRouter } from './router.js';

interface Asset {
  type: string;
  body: Buffer;
}

const require = createRequire(import.meta.url);

/** Every script and style the page uses, served by the app itself: no CDN, no outside request. */
function loadAssets(): Map<string, Asset> {
  const js = 'application/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  const files: Array<[string, string, string]> = [
    ['uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js'), js],
    ['uplot.css', require.resolve('uplot/dist/uPlot.min.css'), css],
    ['format.js', sourceAsset('views', 'dashboard', 'format.js'), js],
    ['dashboard.js', sourceAsset('views', 'dashboard', 'dashboard.js'), js],
    ['dashboard.css', sourceAsset('views', 'dashboard', 'dashboard.css'), css],
  ];
  return new Map(files.map(([name, path, type]) => [name, { type, body: readFileSync(path) }]));
}

const ASSET_PREFIX = '/dashboard/assets/';
/** The assets as the page names them: relative, so they load under a proxy's prefix too. */
const ASSET_HREF = `.${ASSET_PREFIX}`;

/**
 * The page. Each table's wrapper scrolls a table wider than the screen (at 320 px both, at
 * 1280 px the recent one) and is a named region in the tab order: a keyboard scrolls only what
 * it can focus, and the table cells hold nothing focusable (WCAG 2.1.1). Its figures update
 * every second without end: #pause stops them (WCAG 2.2.2), shown once the script runs; its
 * name becomes Resume updates.
 */
function dashboardPage(): string {
  const head = html`<link rel="stylesheet" href="${ASSET_HREF}uplot.css">
<link rel="stylesheet" href="${ASSET_HREF}dashboard.css">
<script src="${ASSET_HREF}uplot.js" defer></script>
<script src="${ASSET_HREF}format.js" defer></script>
<script src="${ASSET_HREF}dashboard.js" defer></script>`;
  const body = html`<p id="status" class="status muted" data-state="loading"><span id="connection" role="status">Loading the first samples…</span> <span id="sample"></span> <button type="button" id="pause" hidden>Pause updates</button></p>
<noscript><p>This page needs JavaScript to load and draw its figures: <a href="./energy">/energy</a> has them as JSON.</p></noscript>
<p id="plain" class="plain" data-testid="plain-words"></p>
<section class="cards" aria-label="Energy and emissions so far">
  <div class="card"><h2>Process (this service)</h2><dl id="process-totals"></dl></div>
  <div class="card"><h2>Host (whole machine)</h2><dl id="host-totals"></dl></div>
  <div class="card"><h2>Grid intensity</h2><dl id="grid"></dl></div>
</section>
<section class="chart-panel"><h2>Power by component and source (W)</h2>
  <p class="muted" id="sources"></p><div class="chart" id="chart-power"></div></section>
<section class="chart-panel"><h2>Emissions rate (g CO2e per hour)</h2>
  <div class="chart" id="chart-emissions"></div></section>
<section class="chart-panel"><h2>Grid carbon intensity (gCO2e/kWh)</h2>
  <div class="chart" id="chart-grid"></div></section>
<section class="chart-panel"><h2>Requests per second by endpoint</h2>
  <div class="chart" id="chart-requests"></div>
  <div class="table-wrap" role="region" tabindex="0" aria-label="Footprint per request by endpoint"><table id="endpoints"><caption>Footprint per request by endpoint (mean since start; requests/s over the last minute). SCI = (E × I + M) / R, R one request; M, the hardware's embodied emissions, is estimated</caption>
  <thead><tr><th scope="col">Endpoint</th><th scope="col">Requests</th><th scope="col">Requests/s</th><th scope="col">Energy per request</th><th scope="col">E × I per request (CO2e)</th><th scope="col">M per request (embodied)</th><th scope="col">SCI per request</th></tr></thead>
  <tbody></tbody></table></div>
  <p class="muted" id="before-app"></p></section>
<section class="chart-panel"><h2>Recent predictions and chats</h2>
  <div class="table-wrap" role="region" tabindex="0" aria-label="Recent predictions and chats"><table id="recent"><caption>Newest first: the local energy each operation used while it ran, its emissions (E × I), its share of the embodied emissions (M, estimated) and its SCI</caption>
  <thead><tr><th scope="col">Ended</th><th scope="col">Operation</th><th scope="col">Duration</th><th scope="col">Energy</th><th scope="col">E × I (CO2e)</th><th scope="col">M (embodied)</th><th scope="col">SCI</th></tr></thead>
  <tbody></tbody></table></div></section>
<p class="muted" id="memory"></p>`;
  return page('/dashboard', 'Dashboard', body, { head });
}

/**
 * The `since` cursor: 0 when absent, NaN unless it is one plain decimal whole number within the
 * safe integers. Number() alone would also take `1e3`, `0x10`, ` ` and `1.0`.
 */
function cursorOf(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^[0-9]+$/.test(raw)) return Number.NaN;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/**
 * `GET /dashboard` (the page), `GET /dashboard/data?since=<seq>&boot=<id>` (history after the
 * cursor plus the current figures), the page's static assets and `GET /`, a redirect to the page.
 *
 * Polling rather than server-sent events: each poll is a short stateless request whose cursor
 * makes it send only new points, it passes any proxy, and no connection is held open, so a
 * graceful shutdown is not kept waiting by open dashboard tabs.
 */
export function dashboardRoutes(dashboard: Dashboard, proxyPrefix = ''): Router {
  const assets = loadAssets();
  const body = dashboardPage();
  const router = pathRouter();
  // The app's address (http://localhost:8001, as the README gives it) leads to its one page
  // for people; relative, so that behind a proxy's prefix it stays under the prefix, but for
  // the prefix opened without its slash (`/carbonscope`, sent on as `/`), which a relative
  // location resolves outside it: there only the prefix the service is told names the page.
  const page = proxyPrefix === '' ? './dashboard' : `${proxyPrefix}/dashboard`;
  router.get('/', (ctx) => {
    ctx.redirect(page);
  });
  router.get('/dashboard', (ctx) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
  router.get('/dashboard/data', (ctx) => {
    const cursor = cursorOf(queryParam(ctx, 'since'));
    if (Number.isNaN(cursor)) ctx.throw(400, "'since' must be a whole number of samples, e.g. 0");
    const boot = queryParam(ctx, 'boot');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = dashboard.data(cursor, boot);
  });
  router.get(`${ASSET_PREFIX}:name`, (ctx) => {
    const asset = assets.get(ctx.params.name ?? '');
    // The name is not echoed: it is whatever the client sent, decoded.
    if (!asset) return ctx.throw(404, 'no such dashboard asset');
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = asset.body;
  });
  return router;
}
