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

  /** Whether a scope's totals hold measured and estimated joules both (a meter took over). */
  function partlyEstimated(t) {
    return t.estimated && t.estimatedJoules > 0 && t.estimatedJoules < t.joules;
  }

  /**
   * What a scope's figures are. The totals keep the estimate's joules after a meter took over
   * (a late RAPL, a hand-over back): neither "measured" nor "estimated" says that.
   */
  function figuresAre(t) {
    if (partlyEstimated(t)) return `${fmt((t.estimatedJoules / t.joules) * 100, 2)} % estimated`;
    return t.estimated ? 'estimated' : 'measured';
  }

  /** The power now's own label, where the figures are partly estimated (see figuresAre). */
  function wattsLabel(t) {
    if (!partlyEstimated(t)) return '';
    return t.wattsEstimated ? ' (estimated)' : ' (measured)';
  }

  window.carbonscopeFormat = { fmt, grams, joules, duration, figuresAre, wattsLabel };
})();
