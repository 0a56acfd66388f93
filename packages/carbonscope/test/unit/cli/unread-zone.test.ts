import { expect } from 'chai';
import { unreadZoneWarning } from '../../../src/cli/unread-zone.js';

/** The warning as the process would give it with TZ set so: Node reads TZ as it changes. */
function warningIn(tz: string | undefined): string | undefined {
  const was = process.env.TZ;
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
  try {
    return unreadZoneWarning(tz, new Date('2026-12-06T06:00:00Z'));
  } finally {
    if (was === undefined) delete process.env.TZ;
    else process.env.TZ = was;
  }
}

describe('unreadZoneWarning (a TZ Node runs on UTC for)', () => {
  // `date` and Python read these; Node's ICU keeps UTC for them.
  it('names a POSIX rule or a misspelt zone, with or without the leading colon', () => {
    for (const tz of [
      'CET-1CEST,M3.5.0,M10.5.0/3',
      'NPT-5:45',
      ':NPT-5:45',
      '<+0545>-5:45',
      // UTC in winter, an hour ahead in summer.
      'GMT0BST,M3.5.0/1,M10.5.0',
      'Europe/Berln',
    ]) {
      const shown = JSON.stringify(tz.replace(/^:/, ''));
      expect(warningIn(tz), tz).to.equal(
        `TZ ${shown} is no zone Node knows, so its times are UTC (\`date\` and CodeCarbon may ` +
          'read it otherwise); name the zone as IANA does, e.g. TZ=Europe/Berlin',
      );
    }
  });

  it('says nothing for a zone Node reads, for UTC in any spelling, or without TZ', () => {
    for (const tz of [
      undefined,
      '',
      ':',
      'Asia/Kathmandu',
      'Europe/Berlin',
      'EST5EDT',
      'UTC',
      ':UTC',
      'Etc/UTC',
      'Zulu',
      'GMT',
      'Africa/Abidjan',
      'UTC0',
      'GMT+0',
      '<UTC>0',
    ]) {
      expect(warningIn(tz), String(tz)).to.equal(undefined);
    }
  });

  // A path names a zone file, which Node reads as the C library does (`:/usr/share/zoneinfo/
  // Europe/Berlin` runs an hour ahead); `TZ=:/etc/localtime`, set on AWS Lambda and in many
  // containers to spare a stat per time call, was warned of where that file is UTC.
  it('says nothing for a zone file, which Node reads as `date` does', () => {
    for (const tz of [
      ':/etc/localtime',
      '/etc/localtime',
      ':/usr/share/zoneinfo/UTC',
      '/usr/share/zoneinfo/Etc/UTC',
      // No such file: the C library and Node both run on UTC.
      ':/nonexistent/zone',
    ]) {
      expect(warningIn(tz), tz).to.equal(undefined);
    }
  });
});
