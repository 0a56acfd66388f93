/**
 * Node's permission model (`--permission` on Node 24, `--experimental-permission` on 20) refuses
 * an API by throwing ERR_ACCESS_DENIED, synchronously, with the permission and the resource it
 * guards. Its message names the flag on Node 24 only, and never the path: these words say both,
 * so that a line tells a user the one flag to add.
 */
const REFUSED = 'ERR_ACCESS_DENIED';

/** What each refused permission is, in words, and the flag that grants it. */
const GRANTS: Readonly<Record<string, { what: (resource: string) => string; flag: string }>> = {
  FileSystemRead: { what: (r) => `reading ${r}`, flag: '--allow-fs-read' },
  FileSystemWrite: { what: (r) => `writing ${r}`, flag: '--allow-fs-write' },
  ChildProcess: { what: () => 'child processes', flag: '--allow-child-process' },
  WorkerThreads: { what: () => 'worker threads', flag: '--allow-worker' },
  Addons: { what: () => 'native addons', flag: '--allow-addons' },
  WASI: { what: () => 'WASI', flag: '--allow-wasi' },
};

/** Whether `code` (an error's, read already) is the permission model's refusal. */
export function isRefusalCode(code: unknown): boolean {
  return code === REFUSED;
}

/** Whether `err` is the permission model's refusal. */
export function isPermissionRefusal(err: unknown): boolean {
  try {
    return (
      typeof err === 'object' && err !== null && isRefusalCode((err as { code?: unknown }).code)
    );
  } catch {
    // A source's or maker's value whose code cannot be read (a Proxy's trap): none of Node's.
    return false;
  }
}

function field(err: object, name: 'permission' | 'resource'): string {
  const value = (err as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

/** Why reading `path` failed where the permission model refused it, naming `grant` to allow. */
export function refusedReading(path: string, grant = path): string {
  return `the permission model refuses reading ${path}: grant --allow-fs-read=${grant}`;
}

/**
 * `the permission model refuses reading /proc/stat: grant --allow-fs-read=/proc/stat` for the
 * permission model's refusal, undefined for any other error. `grant` is the path to name in the
 * flag where a wider one than the file refused serves better (a tree of files read over time).
 */
export function permissionRefusal(err: unknown, grant?: string): string | undefined {
  if (!isPermissionRefusal(err)) return undefined;
  const e = err as object;
  const resource = field(e, 'resource');
  const known = GRANTS[field(e, 'permission')];
  if (!known) return `the permission model refuses it (${field(e, 'permission') || REFUSED})`;
  const path = grant ?? resource;
  const isFs = known.flag.startsWith('--allow-fs-');
  const flag = isFs && path !== '' ? `${known.flag}=${path}` : known.flag;
  return `the permission model refuses ${known.what(resource || 'a file')}: grant ${flag}`;
}
