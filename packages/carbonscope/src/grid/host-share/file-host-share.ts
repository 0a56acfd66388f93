import { createHmac, randomBytes } from 'node:crypto';
import {
  link,
  lstat,
  mkdir,
  open,
  readFile,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorCode } from '../../error-code.js';
import { delay } from '../../real-timers.js';
import { ZONE_PATTERN } from '../../settings.js';
import type { HeldZone } from '../errors.js';
import type { HostShare, SharedValue } from './host-share.js';

/** A clock of another process a little ahead of ours: later than this, a time is not believed. */
const SKEW_MS = 60_000;
const POLL_MS = 50;
/** A file's mtime may round up past our clock's reading by this much: not a clock set back. */
const CLOCK_GRAIN_MS = 1000;
/** The folder's random secret, which with the key names the files (see FileHostShare). */
const SALT_FILE = 'salt';
const SALT_BYTES = 32;

/**
 * The folder the processes of this user share: one per user (`uid`), so another user's
 * processes can neither read the values nor plant any.
 */
export function hostShareDir(base: string = tmpdir()): string {
  const uid = process.getuid?.() ?? 'user';
  return join(base, `carbonscope-grid-${uid}`);
}

export interface FileHostShareOptions {
  dir: string;
  /** The Electricity Maps base URL and key: only an HMAC of them names the files. */
  baseUrl: string;
  apiKey: string;
  /** Epoch ms. */
  now: () => number;
  /** The longest hold believed (a file saying 2099 holds no one). */
  maxHoldMs: number;
  /** A lock older than this is a process that died fetching: taken over. */
  lockStaleMs: number;
  /** Where the one line goes that says why the folder is not used (once a process). */
  warn?: (line: string) => void;
}

/**
 * The host share as files in a private folder (0700, this user's, no link): one JSON file per
 * value, written whole to a temporary name and renamed over, so a reader sees the old file or
 * the new one, never half of one. The key is never written: an HMAC of it and the base URL,
 * keyed by a random secret the folder keeps, names the files, so that a listing of the folder
 * seen elsewhere (a CI artefact, a bug report) is no fingerprint to test a guessed key against;
 * whoever can read the secret can read the process's environment too. Anything unexpected (a folder of another owner, a corrupt file, a full disk) makes
 * it a share with nothing in it: the process then asks the upstream as it would alone.
 */
export class FileHostShare implements HostShare {
  /** The files' names' prefix, for the folder (device and inode) it was made from. */
  private named: { folder: string; scope: string } | undefined;
  private warned = false;

  constructor(private readonly o: FileHostShareOptions) {}

  async read(key: string): Promise<SharedValue<unknown> | undefined> {
    const body = await this.readJson(key);
    if (!isObject(body) || typeof body.fetchedAt !== 'number' || !('value' in body)) return;
    if (!(body.fetchedAt <= this.o.now() + SKEW_MS)) return;
    return { value: body.value, fetchedAt: body.fetchedAt };
  }

  async write(key: string, value: unknown, fetchedAt: number): Promise<void> {
    await this.writeJson(key, { fetchedAt, value });
  }

  async lock(key: string): Promise<(() => Promise<void>) | undefined> {
    const file = await this.file(key);
    if (file === undefined) return async () => undefined;
    const path = `${file}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await (await open(path, 'wx', 0o600)).close();
        return () => unlink(path).catch(() => undefined);
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') return async () => undefined;
        const since = await stat(path).then(
          (s) => s.mtimeMs,
          () => undefined,
        );
        if (since === undefined) continue;
        // Dated ahead of now: the clock was set back since, and its age says nothing.
        const age = this.o.now() - since;
        if (age >= -CLOCK_GRAIN_MS && age < this.o.lockStaleMs) return undefined;
        await unlink(path).catch(() => undefined);
      }
    }
    return undefined;
  }

  async waitFor(key: string, ms: number): Promise<void> {
    const file = await this.file(key);
    if (file === undefined) return;
    const path = `${file}.lock`;
    // Counted in polls, not read off the wall clock: one set back while waiting would extend it.
    for (let polls = Math.ceil(ms / POLL_MS); polls > 0; polls--) {
      const there = await stat(path).then(
        () => true,
        () => false,
      );
      if (!there) return;
      await delay(POLL_MS);
    }
  }

  async held(): Promise<HeldZone | undefined> {
    const body = await this.readJson('hold');
    if (!isObject(body)) return;
    const { until, status, zone } = body;
    if (typeof until !== 'number' || typeof status !== 'number' || typeof zone !== 'string') return;
    const now = this.o.now();
    if (!(until > now && until <= now + this.o.maxHoldMs + SKEW_MS)) return;
    if (!ZONE_PATTERN.test(zone) || zone.length > 32) return;
    return { until, status, zone };
  }

  async hold(held: HeldZone): Promise<void> {
    const now = await this.held();
    if (now !== undefined && now.until >= held.until) return;
    await this.writeJson('hold', held);
  }

  /** The file of `key`, in a usable folder; else undefined (nothing read or written). */
  private async file(key: string): Promise<string | undefined> {
    const folder = await this.usable();
    if (folder === undefined) return undefined;
    if (this.named?.folder !== folder) {
      const salt = await this.salt();
      if (salt === undefined) return undefined;
      const scope = createHmac('sha256', salt)
        .update(this.o.baseUrl)
        .update('\0')
        .update(this.o.apiKey)
        .digest('hex')
        .slice(0, 24);
      this.named = { folder, scope };
    }
    return join(this.o.dir, `${this.named.scope}-${key}.json`);
  }

  /** The folder's secret, made by the first process to need it: all then name files alike. */
  private async salt(make = true): Promise<Buffer | undefined> {
    const path = join(this.o.dir, SALT_FILE);
    const found = await readFile(path).catch((err) =>
      errorCode(err) === 'ENOENT' ? null : undefined,
    );
    if (found === null && make) {
      const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(temp, randomBytes(SALT_BYTES), { mode: 0o600, flag: 'wx' });
        // Linked, not renamed: a link never replaces, so the first process's secret stands, whole.
        await link(temp, path).catch((err) => {
          if (errorCode(err) !== 'EEXIST') throw err;
        });
      } catch {
        return undefined;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      return this.salt(false);
    }
    return found?.length === SALT_BYTES ? found : undefined;
  }

  /**
   * The folder (its device and inode), made private if new; one of another owner, or open to
   * others, is not used.
   * Checked at each use (a lookup's, never a request's): a tmp cleaner may remove it, and
   * another user make one in its place, while the process lives.
   */
  private async usable(): Promise<string | undefined> {
    try {
      await mkdir(this.o.dir, { mode: 0o700 }).catch((err) => {
        if (errorCode(err) !== 'EEXIST') throw err;
      });
      const s = await lstat(this.o.dir);
      const uid = process.getuid?.();
      if (!s.isDirectory()) return this.refused('is not a folder');
      if (uid !== undefined && s.uid !== uid) return this.refused(`is owned by uid ${s.uid}`);
      if ((s.mode & 0o077) !== 0) return this.refused('is open to other users');
      return `${s.dev}:${s.ino}`;
    } catch (err) {
      return this.refused(`cannot be made or read (${String(errorCode(err) ?? err)})`);
    }
  }

  /** Nothing shared; said once, as an operator may mend it (remove the folder, free the disk). */
  private refused(why: string): undefined {
    if (this.warned) return undefined;
    this.warned = true;
    this.o.warn?.(
      `grid host share: ${this.o.dir} ${why}: this process asks Electricity Maps alone, as if GRID_SHARE=process`,
    );
    return undefined;
  }

  private async readJson(key: string): Promise<unknown> {
    const path = await this.file(key);
    if (path === undefined) return undefined;
    try {
      return JSON.parse(await readFile(path, 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  private async writeJson(key: string, body: unknown): Promise<void> {
    const path = await this.file(key);
    if (path === undefined) return;
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(body), { mode: 0o600, flag: 'wx' });
      await rename(temp, path);
    } catch {
      await unlink(temp).catch(() => undefined);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
