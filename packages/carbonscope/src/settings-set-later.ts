import type { Logger } from './log.js';
import { type Env, SETTING_NAMES } from './settings.js';

/** carbonscope's settings variables as it read them at its start: a blank one as unset. */
export type SettingsAsRead = ReadonlyMap<string, string | undefined>;

function settingIn(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** The values of carbonscope's settings variables in `env` now, as loadSettings reads them. */
export function settingsAsRead(env: Env): SettingsAsRead {
  return new Map(SETTING_NAMES.map((name) => [name, settingIn(env, name)]));
}

/**
 * The settings variables set since, or set to another value: not in effect. One removed since
 * (an application scrubbing a key from process.env once read) is not named: its value, read at
 * start, is the one in effect.
 */
export function settingsChangedSince(read: SettingsAsRead, env: Env): string[] {
  return [...read]
    .filter(([name, value]) => {
      const now = settingIn(env, name);
      return now !== undefined && now !== value;
    })
    .map(([name]) => name);
}

/**
 * One warning naming the settings variables the application set after register read them, most
 * often its own first line loading a .env (`import 'dotenv/config'`): they are not in effect, and
 * were silently not. Names only, never values: a .env holds keys.
 */
export function tellSettingsSetLater(read: SettingsAsRead, env: Env, logger: Logger): boolean {
  const changed = settingsChangedSince(read, env);
  if (changed.length === 0) return false;
  logger.warn(
    `carbonscope/register: ${changed.join(', ')} changed after carbonscope read its settings at start (a .env the application loads itself, say) and ${changed.length === 1 ? 'is' : 'are'} not in effect: load the file before register, with \`node --env-file=.env\` or \`-r dotenv/config\` before \`--import carbonscope/register\``,
  );
  return true;
}

/**
 * tellSettingsSetLater once at most, asked as often as the caller likes: no single moment is
 * sure to follow an application's .env (its modules may take longer to load than the first
 * sample's 0.1 s on a loaded machine, or it awaits its config first), so register asks at the
 * first sample, a few times after and at its stop.
 */
export function settingsSetLaterTeller(read: SettingsAsRead, env: Env, logger: Logger): () => void {
  let told = false;
  return () => {
    if (!told) told = tellSettingsSetLater(read, env, logger);
  };
}
