/**
 * A zero offset with no summer rule, as POSIX writes UTC (`UTC0`, `GMT+0`, `<UTC>0`): Node's
 * UTC is then what the user asked for.
 */
const POSIX_UTC = /^(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)[+-]?0{1,2}(?::00){0,2}$/;

/**
 * The warning for a TZ that Node runs on UTC for where the user meant another zone, else
 * undefined. ICU reads IANA names only: for a POSIX rule (`CET-1CEST,M3.5.0,M10.5.0/3`,
 * `NPT-5:45`) it keeps UTC, where `date` and CodeCarbon (Python's strftime) read the rule, so the
 * CSV's local timestamp and monitor's lines are off by the zone's offset from theirs. A misspelt
 * name gives UTC too. A Node built without Intl takes the zone from the C library, which reads
 * the rule: nothing to say there.
 */
export function unreadZoneWarning(
  tz: string | undefined,
  now: Date = new Date(),
): string | undefined {
  const given = tz?.replace(/^:/, '');
  if (!given || zoneFile(given) || typeof Intl === 'undefined') return undefined;
  if (!runsOnUtc(now) || namesUtc(given, now)) return undefined;
  return (
    `TZ ${JSON.stringify(given)} is no zone Node knows, so its times are UTC (\`date\` and ` +
    'CodeCarbon may read it otherwise); name the zone as IANA does, e.g. TZ=Europe/Berlin'
  );
}

/**
 * A path: the zone file Node reads as the C library does (`TZ=:/etc/localtime`, set on AWS
 * Lambda and in containers to spare a stat per time call), or UTC for both where there is none.
 */
function zoneFile(given: string): boolean {
  return given.startsWith('/');
}

/** Node's clock keeps UTC all year (January's and July's offsets are both zero). */
function runsOnUtc(now: Date): boolean {
  const year = now.getFullYear();
  return [0, 6].every((month) => new Date(year, month, 1).getTimezoneOffset() === 0);
}

/** TZ names UTC, or a zone ICU knows at UTC's time all year (Africa/Abidjan). */
function namesUtc(given: string, now: Date): boolean {
  if (POSIX_UTC.test(given)) return true;
  let there: Intl.DateTimeFormat;
  try {
    there = wallClock(given);
  } catch {
    return false;
  }
  const utc = wallClock('UTC');
  const year = now.getUTCFullYear();
  return [0, 6].every((month) => {
    const at = Date.UTC(year, month, 1);
    return there.format(at) === utc.format(at);
  });
}

/** Date and time to the minute in a zone: equal to UTC's where the offset is zero. */
function wallClock(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    dateStyle: 'short',
    timeStyle: 'short',
    hourCycle: 'h23',
  });
}
