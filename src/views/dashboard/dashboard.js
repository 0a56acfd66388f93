// carbonscope live dashboard: polls /dashboard/data with a cursor (only new samples come back)
// and draws them with uPlot. Plain browser JS, no build step, no outside requests.
(() => {
  const POLL_MIN_MS = 1000;
  const POLL_MAX_MS = 2000;
  // How long after a sample is due the page asks for it (timer jitter and the request).
  const POLL_AFTER_SAMPLE_MS = 150;
  // Never poll faster than this, whatever the server says.
  const POLL_FLOOR_MS = 500;
  // Longest wait between tries while the service cannot be reached.
  const RETRY_MAX_MS = 10000;
  // The most rows the page holds: a chart some hundreds of pixels wide draws no more, and an
  // hour at a 50 ms interval (72,000 rows of ~30 columns) took a quarter second a poll to draw.
  const MAX_ROWS = 4000;
  // The newest rows, kept as they came: the newest figures read as the service sent them.
  const EXACT_ROWS = 1000;
  // Older rows are folded into this many equal spans of the history the service keeps.
  const FOLD_BUCKETS = 1000;
  // Okabe–Ito palette (distinguishable with colour-vision deficiencies); every series also has
  // its own dash pattern and a legend label, so the charts read without colour too. Its orange
  // and sky blue are 2.3:1 on white, under the 3:1 a line needs (WCAG 1.4.11): a dark amber and
  // a purple stand in for them.
  const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#9A7300', '#6A3D9A', '#000000'];
  const DASHES = [[], [8, 4], [2, 3], [12, 3, 3, 3], [4, 4], [1, 6], [16, 4]];

  const state = {
    boot: null,
    seq: 0,
    capacity: 3600,
    times: [],
    columns: {},
    charts: {},
    latest: null,
  };
  // The browser test reads charts and figures from here.
  window.carbonscopeDashboard = state;

  const $ = (id) => document.getElementById(id);

  const { fmt, grams, joules, duration, bytes, clock, figuresAre, wattsLabel } =
    window.carbonscopeFormat;

  /** A <dt>/<dd> pair; data-value keeps the raw number for tests and copy-paste. */
  function fields(dl, rows) {
    dl.replaceChildren(
      ...rows.flatMap(([name, field, text, raw]) => {
        const dt = document.createElement('dt');
        dt.textContent = name;
        const dd = document.createElement('dd');
        dd.textContent = text;
        dd.dataset.field = field;
        if (raw !== undefined && raw !== null) dd.dataset.value = String(raw);
        return [dt, dd];
      }),
    );
  }

  function cell(row, text, header) {
    const el = document.createElement(header ? 'th' : 'td');
    if (header) el.scope = 'row';
    el.textContent = text;
    row.append(el);
  }

  function estimatedMark(estimated) {
    return estimated ? ' (estimated)' : ' (measured)';
  }

  function renderFigures(d) {
    const t = d.energy.totals;
    const scopeRows = (scope) => [
      [
        'Power now',
        `${scope}-watts`,
        `${fmt(t[scope].watts)} W${wattsLabel(t[scope])}`,
        t[scope].watts,
      ],
      ['Energy so far', `${scope}-joules`, joules(t[scope].joules), t[scope].joules],
      ['Emissions so far', `${scope}-grams`, grams(t[scope].grams), t[scope].grams],
      [
        'Embodied so far (estimated)',
        `${scope}-embodied-grams`,
        grams(t[scope].embodiedGrams),
        t[scope].embodiedGrams,
      ],
      [
        'Emissions rate',
        `${scope}-grams-per-hour`,
        `${grams(t[scope].gramsPerSecond * 3600)} per hour`,
        t[scope].gramsPerSecond,
      ],
      ['Figures are', `${scope}-estimated`, figuresAre(t[scope])],
    ];
    fields($('process-totals'), scopeRows('process'));
    fields($('host-totals'), scopeRows('host'));

    const g = d.energy.grid;
    const age =
      g.ageSeconds === null
        ? 'unknown'
        : g.ageSeconds === 0 && g.source !== 'electricity-maps'
          ? 'not applicable (a fixed or average value)'
          : duration(g.ageSeconds);
    fields($('grid'), [
      ['Zone', 'grid-zone', g.zone],
      [
        'Intensity',
        'grid-intensity',
        g.carbonIntensity === null ? 'not known yet' : `${fmt(g.carbonIntensity)} gCO2e/kWh`,
        g.carbonIntensity,
      ],
      [
        'Source',
        'grid-source',
        `${g.source || 'none'}${g.estimated ? ' (estimated)' : ''}${g.stale ? ' (stale: last good value)' : ''}`,
      ],
      ['Age', 'grid-age', age, g.ageSeconds],
      ...(g.note ? [['Note', 'grid-note', g.note]] : []),
    ]);

    $('sources').textContent = `Power sources: ${d.energy.sources
      .map((s) => `${s.name} (${s.kind}${s.estimated ? ', estimated' : ', measured'})`)
      .join('; ')}. Process power is the process's share of the host's.`;

    const h = d.lastHour;
    const plain = $('plain');
    const span =
      h.windowSeconds >= 3590 ? 'in the last hour' : `in the last ${duration(h.windowSeconds)}`;
    const metres =
      h.carMetres >= 1000
        ? `${fmt(h.carMetres / 1000)} km`
        : h.carMetres >= 1
          ? `${fmt(h.carMetres)} metres`
          : `${fmt(h.carMetres * 1000)} millimetres`;
    const estimate = h.estimated ? ' (estimated)' : '';
    plain.textContent = `This service emitted ${grams(h.grams)}${estimate} ${span}, about ${metres} by car (approximate: a typical petrol car, ${fmt(h.carGramsPerMetre * 1000)} g CO2 per km).`;
    plain.title = `Car equivalence: ${h.equivalenceSource}`;
    plain.dataset.grams = String(h.grams);

    const endpoints = $('endpoints').tBodies[0];
    endpoints.replaceChildren(
      ...d.requests.map((r) => {
        const row = document.createElement('tr');
        cell(row, r.endpoint, true);
        cell(row, String(r.requests));
        cell(row, fmt(r.perSecond));
        cell(row, joules(r.joulesPerRequest) + (r.estimated ? ' (estimated)' : ''));
        cell(row, grams(r.gramsPerRequest));
        cell(row, grams(r.embodiedGramsPerRequest));
        cell(row, grams(r.sciGramsPerRequest));
        return row;
      }),
    );
    if (d.requests.length === 0) endpoints.append(emptyRow(7, 'No requests yet.'));
    // No endpoint ran for what the server answered before the app: said, so totals add up.
    const early = d.answeredBeforeApp;
    $('before-app').textContent =
      early > 0
        ? `${early} ${early === 1 ? 'request was' : 'requests were'} answered before the app ` +
          '(not valid HTTP, too slow to arrive, or headers too large), outside this table.'
        : '';

    const recent = $('recent').tBodies[0];
    recent.replaceChildren(
      ...d.recent.map((op) => {
        const row = document.createElement('tr');
        cell(row, clock(Date.parse(op.endedAt)), true);
        cell(row, op.operation);
        cell(row, duration(op.durationSeconds));
        cell(row, joules(op.energyJoules) + (op.estimated ? ' (estimated)' : ''));
        cell(row, grams(op.emissionsGrams));
        cell(row, grams(op.embodiedGrams));
        cell(row, grams(op.sci.gramsPerUnit));
        return row;
      }),
    );
    if (d.recent.length === 0) {
      recent.append(emptyRow(7, 'No predictions or chats yet: try /predict or /chat.'));
    }

    // Outside the live region: a screen reader would otherwise read it out at every sample.
    $('sample').textContent = `· sample ${d.energy.samples} at ${sampleTime(d)} · updates every ${
      Math.round(updateMs(d) / 100) / 10
    } s`;
    $('status').dataset.samples = String(d.energy.samples);
    $('memory').textContent = `History: up to ${fmt(d.capacity)} samples (${fmt(
      (d.capacity * d.intervalMs) / 60000,
    )} minutes), held in ${bytes(d.memoryBytes)} of fixed memory.`;
  }

  function sampleTime(d) {
    return d.energy.sampledAt ? clock(Date.parse(d.energy.sampledAt)) : '–';
  }

  /**
   * The state line: `live`, `offline` or `paused`. Its text is a live region, so it changes only
   * when the state (or the reason it cannot update) does.
   */
  function setState(name, text) {
    const status = $('status');
    status.dataset.state = name;
    status.classList.toggle('muted', name !== 'offline');
    // "updates every 1 s" would be untrue while it is not updating.
    if (name !== 'live') $('sample').textContent = '';
    const connection = $('connection');
    if (connection.textContent !== text) connection.textContent = text;
  }

  function emptyRow(span, text) {
    const row = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = span;
    td.className = 'muted';
    td.textContent = text;
    row.append(td);
    return row;
  }

  function merge(d) {
    if (d.reset || d.boot !== state.boot) {
      state.times = [];
      state.columns = {};
    }
    state.boot = d.boot;
    state.seq = d.seq;
    state.capacity = d.capacity;
    const before = state.times.length;
    for (const t of d.times) state.times.push(t / 1000);
    for (const [key, values] of Object.entries(d.columns)) {
      let column = state.columns[key];
      if (!column) {
        column = new Array(before).fill(null);
        state.columns[key] = column;
      }
      // One value a push: push(...values) passes each as an argument, and Chromium throws a
      // RangeError for a batch of some 100,000.
      for (const value of values) column.push(value);
    }
    // Columns absent from this batch get gaps, so every column stays aligned with the times.
    for (const column of Object.values(state.columns)) {
      while (column.length < state.times.length) column.push(null);
    }
    const excess = excessRows(d);
    if (excess > 0) {
      state.times.splice(0, excess);
      for (const column of Object.values(state.columns)) column.splice(0, excess);
    }
    foldOlderRows(d);
  }

  /**
   * Beyond MAX_ROWS, folds all but the newest rows into time buckets, as the service sums its
   * history up: one row a bucket at the time of its last row, holding a running total's last
   * value and any other column's mean, weighted by the time each row covers. Only whole buckets
   * are folded, so a bucket is folded once, from all of its rows.
   */
  function foldOlderRows(d) {
    const times = state.times;
    if (times.length <= MAX_ROWS) return;
    const width = (d.capacity * d.intervalMs) / 1000 / FOLD_BUCKETS;
    const bucket = (i) => Math.floor(times[i] / width);
    let end = times.length - EXACT_ROWS;
    while (end > 0 && bucket(end - 1) === bucket(end)) end--;
    const runs = [];
    for (let first = 0; first < end; ) {
      let last = first;
      while (last + 1 < end && bucket(last + 1) === bucket(first)) last++;
      runs.push([first, last]);
      first = last + 1;
    }
    const weights = times.map((t, i) => (i === 0 ? d.intervalMs / 1000 : t - times[i - 1]));
    const totals = new Set(d.runningTotals || []);
    state.times = runs.map(([, last]) => times[last]).concat(times.slice(end));
    for (const [key, values] of Object.entries(state.columns)) {
      const fold = totals.has(key) ? lastValue : weightedMean;
      // A row alone in its bucket (one folded before) is kept as it is, not re-averaged.
      state.columns[key] = runs
        .map(([first, last]) =>
          first === last ? values[first] : fold(values, weights, first, last),
        )
        .concat(values.slice(end));
    }
  }

  function lastValue(values, _weights, first, last) {
    for (let i = last; i >= first; i--) if (values[i] !== null) return values[i];
    return null;
  }

  /** The mean of the values in first..last that are not gaps, null when all are. */
  function weightedMean(values, weights, first, last) {
    let sum = 0;
    let weight = 0;
    let count = 0;
    let plain = 0;
    for (let i = first; i <= last; i++) {
      if (values[i] === null) continue;
      sum += values[i] * weights[i];
      weight += weights[i];
      plain += values[i];
      count++;
    }
    if (count === 0) return null;
    // Rows with the same time cover no time: their plain mean then.
    return weight > 0 ? sum / weight : plain / count;
  }

  /**
   * How many of the oldest rows to drop: beyond `capacity` rows, or older than the span the
   * service keeps (`capacity` samples): a first answer sums that span up in fewer rows, which
   * the rows that follow it would otherwise keep on the chart past it.
   */
  function excessRows(d) {
    const times = state.times;
    let excess = Math.max(0, times.length - state.capacity);
    if (times.length === 0) return excess;
    const oldest = times[times.length - 1] - (d.capacity * d.intervalMs) / 1000;
    while (excess < times.length && times[excess] < oldest) excess++;
    return excess;
  }

  function column(key, scale) {
    const values = state.columns[key] || new Array(state.times.length).fill(null);
    return scale ? values.map((v) => (v === null ? null : v * scale)) : values;
  }

  function chartSpecs(d) {
    const power = d.power.map((p) => ({
      key: p.key,
      label: `${p.scope} ${p.component}, ${p.source}${estimatedMark(p.estimated)}`,
    }));
    return {
      power: { el: 'chart-power', unit: 'W', series: power },
      emissions: {
        el: 'chart-emissions',
        unit: 'g/h',
        series: [
          { key: 'process_grams_per_second', label: 'process', scale: 3600 },
          { key: 'host_grams_per_second', label: 'host', scale: 3600 },
        ],
      },
      grid: {
        el: 'chart-grid',
        unit: 'gCO2e/kWh',
        series: [
          { key: 'intensity', label: `${d.energy.grid.zone} (${d.energy.grid.source || 'none'})` },
        ],
      },
      requests: {
        el: 'chart-requests',
        unit: 'req/s',
        series: d.endpoints.map((e) => ({ key: e.key, label: e.endpoint })),
      },
    };
  }

  function chartWidth(el) {
    return Math.max(200, Math.floor(el.getBoundingClientRect().width));
  }

  function build(name, spec) {
    const el = $(spec.el);
    const old = state.charts[name];
    if (old) old.chart.destroy();
    const opts = {
      width: chartWidth(el),
      height: window.innerWidth < 600 ? 180 : 220,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#333', grid: { stroke: '#e5e5e5' } },
        { stroke: '#333', grid: { stroke: '#e5e5e5' }, size: 60, label: spec.unit },
      ],
      series: [
        {
          label: 'time',
          value: (u, v, _s, idx) => chartClock(idx === null ? newest(u.data[0]) : v),
        },
        ...spec.series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          dash: DASHES[i % DASHES.length],
          width: 2,
          spanGaps: false,
          // Away from the cursor the legend shows the newest values: the chart's text form.
          value: (u, v, sidx, idx) => {
            const shown = idx === null ? newest(u.data[sidx]) : v;
            return shown === null || shown === undefined ? '–' : `${fmt(shown)} ${spec.unit}`;
          },
        })),
      ],
    };
    opts.hooks = { setSeries: [sayShown] };
    const chart = new window.uPlot(opts, dataFor(spec), el);
    describeChart(chart, el);
    legendButtons(chart);
    state.charts[name] = { chart, signature: signature(spec), spec };
  }

  function newest(values) {
    return values.length > 0 ? values[values.length - 1] : null;
  }

  function chartClock(seconds) {
    return seconds === null || seconds === undefined ? '–' : clock(seconds * 1000);
  }

  /** A canvas says nothing to a screen reader: name the plot, and its legend as the values. */
  function describeChart(chart, el) {
    const title = el.closest('section').querySelector('h2').textContent;
    const plot = chart.root.querySelector('.u-wrap');
    plot.setAttribute('role', 'img');
    plot.setAttribute(
      'aria-label',
      `${title}: line chart over time; newest values in the table below.`,
    );
    chart.root.querySelector('.u-legend')?.setAttribute('aria-label', `${title}: newest values`);
  }

  /**
   * A click on a series' name in the legend hides or shows it: a mouse only, as uPlot draws it.
   * Each name goes in a button, which a keyboard reaches and presses (its click reaches uPlot's
   * handler on the cell), pressed while the series is shown.
   */
  function legendButtons(chart) {
    chart.root.querySelectorAll('.u-legend .u-series').forEach((row, i) => {
      if (i === 0) return;
      const name = row.querySelector('th');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'series-toggle';
      button.append(...name.childNodes);
      name.append(button);
    });
    sayShown(chart);
  }

  function sayShown(chart) {
    chart.root.querySelectorAll('.u-legend .u-series').forEach((row, i) => {
      row.querySelector('button')?.setAttribute('aria-pressed', String(chart.series[i].show));
    });
  }

  function signature(spec) {
    return spec.series.map((s) => `${s.key}=${s.label}`).join('|');
  }

  function dataFor(spec) {
    return [state.times.slice(), ...spec.series.map((s) => column(s.key, s.scale))];
  }

  function draw(d) {
    const specs = chartSpecs(d);
    for (const [name, spec] of Object.entries(specs)) {
      const current = state.charts[name];
      if (!current || current.signature !== signature(spec)) build(name, spec);
      else current.chart.setData(dataFor(spec));
    }
  }

  /** The polling period: the sample interval, kept within 1–2 s. */
  function pollMs(d) {
    return Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, d ? d.intervalMs : POLL_MIN_MS));
  }

  /**
   * How often the figures change: every sample, but no more than a poll shows. Polls every 2 s
   * at a 10 s interval find a new sample every fifth one only.
   */
  function updateMs(d) {
    return Math.max(pollMs(d), d.intervalMs);
  }

  /**
   * Delay before the next poll. When samples come every 1–2 s the poll is timed just after the
   * next one is due (the server says when), so the page is never more than one sample behind
   * and polls once per sample; otherwise it polls every 1–2 s.
   */
  function nextPollDelay(d) {
    if (d.intervalMs < POLL_MIN_MS || d.intervalMs > POLL_MAX_MS) return pollMs(d);
    return Math.min(POLL_MAX_MS, Math.max(POLL_FLOOR_MS, d.nextSampleInMs + POLL_AFTER_SAMPLE_MS));
  }

  /** Waits after the nth failure in a row: 2 s, 4 s, 8 s, then every 10 s. */
  function retryDelay(failures) {
    return Math.min(RETRY_MAX_MS, POLL_MAX_MS * 2 ** (failures - 1));
  }

  async function fetchData() {
    const url = `./dashboard/data?since=${state.seq}${state.boot ? `&boot=${state.boot}` : ''}`;
    let res;
    try {
      res = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
    } catch {
      // fetch says only "Failed to fetch" (or the like) for a refused or dropped connection.
      throw new Error('the service cannot be reached');
    }
    if (!res.ok) throw new Error(`the service answered ${res.status}`);
    // What a proxy in between answers (a sign-in page at 200) is no JSON: said so, not in the
    // parser's words ("Unexpected token '<'").
    const type = (res.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      const said = type.slice(0, 100) || 'no content type';
      throw new Error(`the service answered with ${said}, not its figures`);
    }
    try {
      return await res.json();
    } catch {
      throw new Error('the service answered with figures cut short or malformed');
    }
  }

  let timer = null;
  let polling = false;
  let failures = 0;
  // Paused by the reader (#pause), not only while the tab is hidden.
  let paused = false;

  /**
   * The next poll, unless the reader paused the page or the tab is hidden: it then catches up
   * from its cursor when resumed or shown.
   */
  function schedule(delay) {
    clearTimeout(timer);
    timer = null;
    if (paused) {
      const from = state.latest
        ? ` The figures and charts below are from ${sampleTime(state.latest)}.`
        : '';
      setState('paused', `Paused.${from}`);
      return;
    }
    if (document.hidden) {
      setState('paused', 'Paused while this tab is hidden.');
      return;
    }
    timer = setTimeout(poll, delay);
  }

  async function poll() {
    timer = null;
    if (polling) return;
    polling = true;
    let next;
    try {
      const d = await fetchData();
      // Pressed while this poll was out: the page stays as it was when paused. The cursor is
      // not moved, so these rows come again on resuming.
      if (paused) return;
      merge(d);
      state.latest = d;
      renderFigures(d);
      draw(d);
      failures = 0;
      setState('live', 'Live');
      next = nextPollDelay(d);
    } catch (err) {
      if (paused) return;
      failures++;
      const from = state.latest ? `are from ${sampleTime(state.latest)}` : 'are not loaded yet';
      setState(
        'offline',
        `Could not update: ${err.message}. The figures and charts below ${from}; retrying.`,
      );
      next = retryDelay(failures);
    } finally {
      polling = false;
    }
    schedule(next);
  }

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) schedule(0);
    else if (!polling && !paused) poll();
  });

  // Figures that change every second, forever, distract (WCAG 2.2.2): the reader can stop them.
  // The button says what a press does: a pressed state drawn by nothing looked the same paused.
  const pause = $('pause');
  pause.hidden = false;
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume updates' : 'Pause updates';
    if (paused) schedule(0);
    else if (!polling) poll();
  });

  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const { chart, spec } of Object.values(state.charts)) {
        chart.setSize({
          width: chartWidth($(spec.el)),
          height: window.innerWidth < 600 ? 180 : 220,
        });
      }
    }, 150);
  });

  poll();
})();
