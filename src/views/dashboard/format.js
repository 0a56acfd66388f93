// carbonscope dashboard: how figures are written (units, significant digits). Its own file so the
// unit tests can run it without a page; dashboard.js takes it from window.carbonscopeFormat.
(() => {
  function fmt(value, digits) {
    if (value === null || value === undefined || !Number.isFinite(value)) return '–';
    if (value === 0) return '0';
    // Rounded before the form (separators or digits) is chosen: toPrecision(3) writes 999.7 as
    // "1.00e+3". The callers choose a unit on the value unrounded: 999.7 g is "1,000 g".
    const rounded = Number(value.toPrecision(digits || 3));
    if (Math.abs(rounded) >= 1000) return value.toLocaleString('en', { maximumFractionDigits: 0 });
    // String() drops trailing zeros, and writes exponent form only under a millionth.
    return String(rounded);
  }

  function grams(g) {
    if (!Number.isFinite(g)) return '–';
    if (g !== 0 && Math.abs(g) < 0.00001) return `${fmt(g * 1e6)} µg CO2e`;
    if (g !== 0 && Math.abs(g) < 0.01) return `${fmt(g * 1000)} mg CO2e`;
    if (Math.abs(g) >= 1000) return `${fmt(g / 1000)} kg CO2e`;
    return `${fmt(g)} g CO2e`;
  }

  function joules(j) {
    if (!Number.isFinite(j)) return '–';
    if (Math.abs(j) >= 3.6e6) return `${fmt(j / 3.6e6)} kWh (${fmt(j / 1e6)} MJ)`;
    if (Math.abs(j) >= 3600) return `${fmt(j / 3600)} Wh (${fmt(j)} J)`;
    if (j !== 0 && Math.abs(j) < 0.01) return `${fmt(j * 1000)} mJ`;
    return `${fmt(j)} J`;
  }

  function duration(seconds) {
    if (seconds < 1) return `${fmt(seconds * 1000)} ms`;
    if (seconds < 120) return `${fmt(seconds)} s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
    return `${fmt(seconds / 3600)} h`;
  }

  /**
   * A time on the viewer's clock, in the viewer's form, with its zone's name (`11:45:02 AM
   * GMT+5:45`, `02:30:00 MESZ`): the page and a screenshot say whose clock it is, and the hour
   * that comes twice as summer time ends reads apart. `locale` and `timeZone` are for the tests.
   */
  function clock(ms, locale, timeZone) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
    return new Date(ms).toLocaleTimeString(locale, { timeZone, timeZoneName: 'short' });
  }

  /** A memory size in the README's units: KiB under a MiB, MiB from one on. */
  function bytes(n) {
    return n >= 1024 * 1024 ? `${fmt(n / (1024 * 1024))} MiB` : `${fmt(n / 1024)} KiB`;
  }

  /**
   * What a scope's energy so far is: measured, estimated, or the share an estimate gave where a
   * meter took over (a late RAPL, a hand-over back). With no energy yet, the sources in use say.
   */
  function figuresAre(t) {
    if (!(t.joules > 0)) return t.wattsEstimated || t.estimated ? 'estimated' : 'measured';
    if (!(t.estimatedJoules > 0)) return 'measured';
    if (t.estimatedJoules >= t.joules) return 'estimated';
    return `${share((t.estimatedJoules / t.joules) * 100)} % estimated`;
  }

  /**
   * A share strictly between none and all, never rounded to either (99.7 is not "100"), and
   * never in exponent form (a second of the estimate in a year of RAPL).
   */
  function share(percent) {
    if (percent < 0.01) return 'under 0.01';
    const text = fmt(percent, 2);
    return text === '100' ? 'over 99' : text;
  }

  /** The power now's own label, where it is not what the energy so far is (after a switch). */
  function wattsLabel(t) {
    const power = t.wattsEstimated ? 'estimated' : 'measured';
    return figuresAre(t) === power ? '' : ` (${power})`;
  }

  window.carbonscopeFormat = {
    fmt,
    grams,
    joules,
    duration,
    bytes,
    clock,
    figuresAre,
    wattsLabel,
  };
})();
