/**
 * The environment of a child process built from scratch, so that nothing of the developer's
 * reaches it, with what it must keep of this run's: PATH, to find its tools, and TMPDIR, the
 * folder `npm test` makes for the run alone and checks for leftovers (tools/fresh-tmpdir.sh); a
 * child without it wrote to /tmp, past that check; and GRID_SHARE, which that script sets so that
 * no spec's stub upstream is answered from another's shared value. `extra` comes over them.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const kept: Record<string, string> = { PATH: process.env.PATH ?? '' };
  if (process.env.TMPDIR) kept.TMPDIR = process.env.TMPDIR;
  if (process.env.GRID_SHARE) kept.GRID_SHARE = process.env.GRID_SHARE;
  return { ...kept, ...extra };
}
