/** An error's `code` (`ENOENT`, `EEXIST`, `ERR_ACCESS_DENIED`…) as a string; undefined if none. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}
