const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d\\d):(\\d\\d):(\\d\\d)';
/** RFC 9110 5.6.7's three forms, every one in UTC: `GMT` or, in asctime's, nothing at all. */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d\\d) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${DAY}[a-z]{0,6}, (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** Epoch ms of a date and time in UTC; NaN where a field is out of range (31 Feb, 25:00). */
function utc(year: number, month: string, day: string, h: string, m: string, s: string): number {
  const monthIndex = MONTHS.indexOf(month);
  const at = Date.UTC(year, monthIndex, Number(day), Number(h), Number(m), Number(s));
  const back = new Date(at);
  const same =
    back.getUTCDate() === Number(day) && Number(h) < 24 && Number(m) < 60 && Number(s) <= 60;
  return same && back.getUTCMonth() === monthIndex ? at : Number.NaN;
}

/** rfc850-date's two-digit year: one more than 50 years ahead is of the century before. */
function rfc850Year(yy: string, nowMs: number): number {
  const now = new Date(nowMs).getUTCFullYear();
  const year = now - (now % 100) + Number(yy);
  return year > now + 50 ? year - 100 : year;
}

/**
 * An HTTP date as epoch ms, NaN when it is none. Not Date.parse: V8 reads asctime's form (and a
 * date missing its `GMT`) in the machine's zone, hours off under TZ=America/Sao_Paulo, and reads
 * almost any text ending in a number as a date (`3,5` is 5 March 2001).
 */
function parseHttpDate(value: string, nowMs: number): number {
  const fix = IMF_FIXDATE.exec(value);
  if (fix) return utc(Number(fix[3]), fix[2], fix[1], fix[4], fix[5], fix[6]);
  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850) {
    const [, day, month, yy, h, m, s] = rfc850;
    return utc(rfc850Year(yy, nowMs), month, day, h, m, s);
  }
  const asc = ASCTIME_DATE.exec(value);
  if (asc) return utc(Number(asc[6]), asc[1], asc[2].trim(), asc[3], asc[4], asc[5]);
  return Number.NaN;
}

/**
 * Retry-After is either delta-seconds or an HTTP date; undefined when absent or unreadable. A date
 * is on the server's clock, so it is told against the answer's `Date` (`serverDate`, on the same
 * clock) where that is readable, else against `nowMs`: against ours, a clock an hour behind read
 * a 10 s wait as an hour's, and one a day ahead as none.
 */
export function parseRetryAfter(
  value: string | null,
  nowMs: number,
  serverDate?: string | null,
): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = parseHttpDate(value.trim(), nowMs);
  if (Number.isNaN(at)) return undefined;
  const sent = serverDate ? parseHttpDate(serverDate.trim(), nowMs) : Number.NaN;
  return Math.max(0, at - (Number.isNaN(sent) ? nowMs : sent));
}
