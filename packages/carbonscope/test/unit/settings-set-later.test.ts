import { expect } from 'chai';
import type { Logger } from '../../src/log.js';
import {
  settingsAsRead,
  settingsChangedSince,
  settingsSetLaterTeller,
  tellSettingsSetLater,
} from '../../src/settings-set-later.js';

/** A logger that keeps what it is told at each level. */
function keptLogger(): Logger & { warned: string[] } {
  const warned: string[] = [];
  const keep = (...args: unknown[]) => {
    warned.push(String(args.at(-1)));
  };
  return { warned, debug: () => undefined, info: () => undefined, warn: keep, error: keep };
}

describe('settings set after register read them', () => {
  it('names what was set or changed since, and nothing else', () => {
    const read = settingsAsRead({ CARBON_ZONE: 'DE', GRID_TIMEOUT_MS: '900' });
    const now = { CARBON_ZONE: 'FR', CARBON_INTENSITY: '56', GRID_TIMEOUT_MS: '900', PORT: '1' };
    expect(settingsChangedSince(read, now)).to.deep.equal(['CARBON_ZONE', 'CARBON_INTENSITY']);
  });

  it('names none the application removed after they were read: those are in effect', () => {
    // An application that scrubs its secrets from process.env once read (`delete
    // process.env.ELECTRICITY_MAPS_API_KEY`) was told its key was not in effect; it was.
    const read = settingsAsRead({ ELECTRICITY_MAPS_API_KEY: 'k', PUE: '1.2' });
    expect(settingsChangedSince(read, { PUE: '' })).to.deep.equal([]);
  });

  it('reads a blank value as unset and trims, as loadSettings does', () => {
    const read = settingsAsRead({ CARBON_ZONE: 'FR', PUE: '' });
    expect(settingsChangedSince(read, { CARBON_ZONE: ' FR\n', PUE: '  ' })).to.deep.equal([]);
  });

  it('knows the key under its older name', () => {
    const read = settingsAsRead({});
    expect(settingsChangedSince(read, { ELECTRICITY_MAP_API_KEY: 'k' })).to.deep.equal([
      'ELECTRICITY_MAP_API_KEY',
    ]);
  });

  it('warns once with the names, never a value; says nothing where nothing changed', () => {
    const logger = keptLogger();
    const read = settingsAsRead({});
    tellSettingsSetLater(read, {}, logger);
    expect(logger.warned).to.deep.equal([]);
    tellSettingsSetLater(read, { ELECTRICITY_MAPS_API_KEY: 'sekrit', CARBON_ZONE: 'FR' }, logger);
    expect(logger.warned).to.have.length(1);
    expect(logger.warned[0]).to.match(
      /^carbonscope\/register: CARBON_ZONE, ELECTRICITY_MAPS_API_KEY changed /,
    );
    expect(logger.warned[0]).to.include('are not in effect');
    expect(logger.warned[0]).not.to.include('sekrit');
    expect(logger.warned[0]).not.to.include('FR');
  });

  it('asked again and again, tells once, at the first ask that finds a setting set since', () => {
    const logger = keptLogger();
    const env: Record<string, string> = {};
    const ask = settingsSetLaterTeller(settingsAsRead(env), env, logger);
    ask(); // the first sample, before the application's .env
    expect(logger.warned).to.deep.equal([]);
    env.CARBON_ZONE = 'FR';
    ask();
    ask();
    env.PUE = '1.2';
    ask(); // at stop
    expect(logger.warned).to.have.length(1);
    expect(logger.warned[0]).to.include('CARBON_ZONE');
  });
});
