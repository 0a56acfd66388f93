import { getNumberFromEnv } from '@opentelemetry/core';
import { expect } from 'chai';
// sdkValueAsRead is the library's own, for its messages: not of the public index.
import { sdkIntegerSetting, sdkValueAsRead } from '../../../../src/otel/sdk/index.js';
import { parseEnv, SettingsError } from '../../../../src/settings.js';
import { withEnv } from '../../../helpers/with-env.js';

const NAME = 'OTEL_BSP_MAX_QUEUE_SIZE';

/** What @opentelemetry/core reads of `value`: undefined where it keeps its default. */
const sdkRead = (value: string) => withEnv({ [NAME]: value }, () => getNumberFromEnv(NAME));

/** sdkIntegerSetting(1, 10000)'s reading of `value`, or its refusal's message. */
function ours(value: string, options = { positive: true }): number | string {
  try {
    return parseEnv(
      { [NAME]: sdkIntegerSetting(1, 10_000, options).optional() },
      { [NAME]: value },
    )[NAME] as number;
  } catch (err) {
    expect(err).to.be.instanceOf(SettingsError);
    return (err as SettingsError).message;
  }
}

describe('sdkIntegerSetting: an OTel number read as the SDK reads it', () => {
  // Number() of the text, as getNumberFromEnv: each a whole number in range, read alike.
  for (const value of ['2048', ' 2048 ', '+2048', '2.048e3', '0x800', '0b100000000000', '2048.0']) {
    it(`takes ${JSON.stringify(value)} as the SDK reads it: 2048`, () => {
      expect(sdkRead(value)).to.equal(2048);
      expect(ours(value)).to.equal(sdkRead(value));
    });
  }

  // What the SDK would misread, refused with its reading: a fraction taken as it is (1.5 ms of
  // a delay, likely meant as seconds), a value out of range, and one it drops for its default.
  for (const [value, reading] of [
    ['1.5', 'reads it as 1.5'],
    ['2048.5', 'reads it as 2048.5'],
    ['20000', 'reads it as 20000'],
    ['Infinity', 'reads it as Infinity'],
    ['1e400', 'reads it as Infinity'],
    ['0', 'ignores it for its default'],
    ['-1', 'ignores it for its default'],
    ['1_000', 'ignores it for its default'],
    ['abc', 'ignores it for its default'],
  ] as const) {
    it(`refuses ${value}, saying the SDK ${reading}`, () => {
      expect(ours(value)).to.equal(
        `${NAME}: expected a whole number, from 1 to 10000; the SDK ${reading} (got "${value}")`,
      );
    });
  }

  it('says a value of 0 or less is read as given where the SDK reads it so (not positive)', () => {
    expect(ours('-1', { positive: false })).to.include('; the SDK reads it as -1 (got "-1")');
    expect(sdkRead('-1')).to.equal(-1);
  });
});

describe('sdkValueAsRead: a number in a message, as the SDK read it', () => {
  // The value first; the text only where written otherwise, as what the user would search for.
  for (const [text, shown] of [
    ['600000', '600000 ms'],
    [' 600000 ', '600000 ms'],
    ['0x927c0', '600000 ms (0x927c0)'],
    ['6e5', '600000 ms (6e5)'],
    [' +600000 ', '600000 ms (+600000)'],
    ['600000.0', '600000 ms (600000.0)'],
  ] as const) {
    it(`shows ${JSON.stringify(text)} as ${shown}`, () => {
      expect(sdkValueAsRead(text, 'ms')).to.equal(shown);
      expect(sdkRead(text)).to.equal(600_000);
    });
  }
});
