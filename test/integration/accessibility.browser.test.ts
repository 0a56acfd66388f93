import { expect } from 'chai';
import { type Browser, chromium, type Page, type Route } from 'playwright-core';
import { StubElectricityMaps } from '#library-tests/fixtures/grid/stub-electricity-maps.js';
import { horizontalOverflow, tabThrough, wcagViolations } from '../helpers/accessibility.js';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  reportPolicyViolations,
  type Watched,
  watchedPage,
} from '../helpers/browser.js';
import {
  type ComposedService,
  startComposedService,
  stopService,
} from '../helpers/composed-service.js';
import { waitFor } from '../helpers/wait.js';

/** One page of the service in one of its real states, and how a browser gets there. */
interface PageState {
  name: string;
  open(page: Page, url: string): Promise<void>;
  /** What shows that the page is in that state (a locator). */
  shows: string;
}

/** Fills the page's form by `fill`, sends it, and waits for the page it answers with. */
function sent(path: string, fill: (page: Page) => Promise<void>): PageState['open'] {
  return async (page, url) => {
    await page.goto(`${url}${path}`);
    await fill(page);
    await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === path),
      page.locator('form [type=submit]').click(),
    ]);
    await page.waitForLoadState('load');
  };
}

function opened(path: string): PageState['open'] {
  return async (page, url) => {
    await page.goto(`${url}${path}`);
  };
}

/** The dashboard once its state line says `state`, its data requests left to `route`. */
function dashboard(state: string, route?: Parameters<Page['route']>[1]): PageState['open'] {
  return async (page, url) => {
    if (route) await page.route('**/dashboard/data*', route);
    await page.goto(`${url}/dashboard`);
    await page.waitForSelector(`#status[data-state="${state}"]`);
  };
}

/** Electricity Maps' documented answers, from a local stub: a measured value and a history. */
const grid = new StubElectricityMaps('a11y-test-key');
grid.historyEnd = Date.now;

const STATES: PageState[] = [
  {
    name: '/carbon_intensity (a measured value)',
    shows: '#source:text-is("Electricity Maps")',
    open: opened('/carbon_intensity?zone=DE'),
  },
  {
    name: '/carbon_intensity (an unknown zone: its alert)',
    shows: '[role=alert]',
    open: opened('/carbon_intensity?zone=AQ-XX'),
  },
  {
    name: '/carbon_intensity/history (24 h, an estimated hour among them)',
    shows: 'td:text-is("estimated")',
    open: opened('/carbon_intensity/history?zone=DE'),
  },
  {
    name: '/carbon_intensity/history (a malformed zone: its alert)',
    shows: '[role=alert]',
    open: opened('/carbon_intensity/history?zone=1'),
  },
  { name: '/predict (the form)', shows: '#activity', open: opened('/predict') },
  {
    name: '/predict (a result, estimated)',
    // "(estimated; provisional, …)" when the inference ran over a sample's end, as under load.
    shows: 'p:has-text("for this inference (estimated")',
    open: sent('/predict', (p) => p.fill('#activity', 'driving 10 hours')),
  },
  { name: '/chat (the form)', shows: 'textarea', open: opened('/chat') },
  {
    name: '/chat (an answer)',
    shows: 'h2:text-is("Answer")',
    open: sent('/chat', (p) => p.fill('textarea', 'hello')),
  },
  {
    name: '/chat (a blank message: its alert)',
    shows: '[role=alert]',
    open: sent('/chat', (p) => p.fill('textarea', ' ')),
  },
  // Its first answer never comes: the page as it loads.
  {
    name: '/dashboard (no data yet)',
    shows: '#connection:has-text("Loading")',
    open: dashboard('loading', () => undefined),
  },
  {
    name: '/dashboard (live)',
    shows: '#process-totals dd:has-text("estimated")',
    open: dashboard('live'),
  },
  {
    name: '/dashboard (the service unreachable)',
    shows: '#connection:has-text("cannot be reached")',
    open: dashboard('offline', (r) => r.abort()),
  },
];

/** The sample the dashboard shows. */
async function shownSample(page: Page): Promise<number> {
  return Number(await page.locator('#status').getAttribute('data-samples'));
}

/** Presses Tab until the focus is in `selector`, at most `limit` times; false if it never is. */
async function tabUntil(page: Page, selector: string, limit = 60): Promise<boolean> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => Boolean(document.activeElement?.closest(s)), selector)) {
      return true;
    }
  }
  return false;
}

describe('every page of the service, for keyboard, screen reader and zoom (axe-core, chromium)', function () {
  this.timeout(120_000);
  let service: ComposedService;
  let browser: Browser;

  before(async () => {
    const gridUrl = await grid.start();
    service = await startComposedService({
      MOCK_LLM_LATENCY_MS: '20',
      ELECTRICITY_MAPS_API_KEY: grid.token,
      ELECTRICITY_MAPS_BASE_URL: gridUrl,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await stopService(service);
    await grid.close();
  });

  /** The live dashboard in a fresh page, with how many data requests it has made. */
  async function liveDashboard(): Promise<{ watched: Watched; polls(): number }> {
    const watched = await watchedPage(browser, { width: 1280, height: 900 });
    let polls = 0;
    watched.page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/dashboard/data') polls++;
    });
    await dashboard('live')(watched.page, service.url);
    return { watched, polls: () => polls };
  }

  /** Three samples past `sample` by the service: a page still updating would have asked for them. */
  function threeSamplesPast(sample: number): Promise<void> {
    const ahead = async () => service.service.dashboard.data(sample).seq >= sample + 3;
    return waitFor('three samples more', ahead, 10_000, 50);
  }

  /** Until the page shows a sample newer than `sample`. */
  async function showsSamplePast(page: Page, sample: number): Promise<void> {
    await page.waitForFunction(
      (n) => Number(document.getElementById('status')?.dataset.samples) > n,
      sample,
    );
  }

  it('/dashboard: Tab reaches each series of a chart, and Enter or Space hides and shows it as a click does', async () => {
    const { watched } = await liveDashboard();
    try {
      const { page } = watched;
      const legend = '#chart-power .u-legend';
      const reached = await tabUntil(page, legend);
      expect(reached, `Tab never reached ${legend}`).to.equal(true);
      const shown = () =>
        page.evaluate(() => {
          type Charts = Record<string, { chart: { series: Array<{ show: boolean }> } }>;
          const { charts } = (window as unknown as { carbonscopeDashboard: { charts: Charts } })
            .carbonscopeDashboard;
          return charts.power.chart.series[1].show;
        });
      const pressed = () =>
        page.evaluate(() => document.activeElement?.getAttribute('aria-pressed'));
      expect([await shown(), await pressed()]).to.deep.equal([true, 'true']);
      await page.keyboard.press('Enter');
      expect([await shown(), await pressed()], 'after Enter').to.deep.equal([false, 'false']);
      // A hidden series' name is still legible (axe, WCAG 1.4.3) and says it can be shown.
      expect(await wcagViolations(page)).to.deep.equal([]);
      await page.keyboard.press('Space');
      expect([await shown(), await pressed()], 'after Space').to.deep.equal([true, 'true']);
      expect(watched.problems).to.deep.equal([]);
    } finally {
      await watched.close();
    }
  });

  it('/dashboard: a Pause button, reached by Tab, stops its updates until pressed again (WCAG 2.2.2)', async () => {
    const { watched, polls } = await liveDashboard();
    try {
      const { page } = watched;
      // Its name, and whether it is a toggle too, which a name that changes must not be.
      const pauseButton = () =>
        page.evaluate(() => {
          const el = document.getElementById('pause');
          return `${el?.textContent}${el?.hasAttribute('aria-pressed') ? ' (aria-pressed)' : ''}`;
        });
      expect(await tabUntil(page, '#pause'), 'Tab never reached #pause').to.equal(true);
      await page.keyboard.press('Enter');
      await page.waitForSelector('#status[data-state="paused"]');
      // The button says what it does now, to an eye as to a screen reader.
      expect(await pauseButton()).to.equal('Resume updates');
      const at = { polls: polls(), sample: await shownSample(page) };
      const rowsHeld = () =>
        page.evaluate(
          () =>
            (window as unknown as { carbonscopeDashboard: { times: number[] } })
              .carbonscopeDashboard.times.length,
        );
      const rowsAtPause = await rowsHeld();
      await threeSamplesPast(at.sample);
      expect({ polls: polls(), sample: await shownSample(page) }, 'while paused').to.deep.equal(at);
      expect(await page.locator('#connection').textContent()).to.match(/^Paused\b/);
      await page.keyboard.press('Enter');
      await showsSamplePast(page, at.sample);
      expect(await pauseButton()).to.equal('Pause updates');
      // The samples taken while paused are charted too: the page catches up from its cursor.
      expect(await rowsHeld(), 'rows after resuming').to.be.at.least(rowsAtPause + 3);
      expect(watched.problems).to.deep.equal([]);
    } finally {
      await watched.close();
    }
  });

  // A poll out when Pause is pressed still answers: the page said it was paused at the figures it
  // showed, and must keep them (the rows come again on resuming, from its cursor).
  it('/dashboard: paused while a poll is out, it keeps its figures when that poll answers, until resumed', async () => {
    const { watched, polls } = await liveDashboard();
    try {
      const { page } = watched;
      let hold: ((route: Route) => void) | undefined;
      await page.route('**/dashboard/data*', (route) => (hold ? hold(route) : route.continue()));
      const held = await new Promise<Route>((resolve) => {
        hold = resolve;
      });
      hold = undefined;
      await page.locator('#pause').click();
      await page.waitForSelector('#status[data-state="paused"]');
      const at = { polls: polls(), sample: await shownSample(page) };
      await Promise.all([page.waitForEvent('requestfinished'), held.continue()]);
      await threeSamplesPast(at.sample);
      const now = async () => ({
        polls: polls(),
        sample: await shownSample(page),
        state: await page.locator('#status').getAttribute('data-state'),
      });
      expect(await now(), 'while paused').to.deep.equal({ ...at, state: 'paused' });
      await page.locator('#pause').click();
      await showsSamplePast(page, at.sample);
      expect((await now()).state).to.equal('live');
      expect(watched.problems).to.deep.equal([]);
    } finally {
      await watched.close();
    }
  });

  /** What axe finds at this width, and how far the page scrolls sideways: nothing, and 0. */
  async function expectConforming(page: Page, name: string, width: number): Promise<void> {
    expect(await wcagViolations(page), `${name} at ${width} px`).to.deep.equal([]);
    expect(await horizontalOverflow(page), `${name}: px scrolled sideways at ${width} px`).to.equal(
      0,
    );
  }

  // One load a state: 1280 px, Tab, then 320 px. A 1280 px window zoomed to 400 % is that page
  // resized, not loaded anew. Three loads a state (a width each, and Tab) took this file's tests
  // 144 s, one takes 85 s, on the same shared 2 cores.
  for (const state of STATES) {
    it(`${state.name}: no WCAG 2.1 AA violation at 1280 or 320 px, no sideways scroll, and Tab reaches every control in order, its focus shown, then leaves`, async () => {
      const watched = await watchedPage(browser, { width: 1280, height: 800 });
      await reportPolicyViolations(watched.page, watched.problems);
      try {
        const { page } = watched;
        await state.open(page, service.url);
        const shown = await page.locator(state.shows).count();
        expect(shown, `${state.name}: ${state.shows}`).to.be.above(0);
        await expectConforming(page, state.name, 1280);

        const { stops, left, missed } = await tabThrough(page);
        // The five links of the navigation at least.
        expect(stops.length, state.name).to.be.at.least(5);
        expect(missed, 'controls Tab never reached').to.deep.equal([]);
        expect(left, `the focus stayed in the page: ${stops.map((s) => s.name)}`).to.equal(true);
        expect(
          stops.filter((s) => !s.visible).map((s) => s.name),
          'no focus shown',
        ).to.deep.equal([]);
        expect(
          stops.filter((s) => !s.inOrder).map((s) => s.name),
          'out of order',
        ).to.deep.equal([]);

        await page.setViewportSize({ width: 320, height: 800 });
        // The dashboard redraws its charts at the new width once the resizing ends (150 ms).
        await page.waitForFunction(() =>
          [...document.querySelectorAll('.uplot')].every(
            (chart) => chart.getBoundingClientRect().width <= window.innerWidth,
          ),
        );
        await expectConforming(page, state.name, 320);
        expect(watched.problems, state.name).to.deep.equal([]);
      } finally {
        await watched.close();
      }
    });
  }
});
