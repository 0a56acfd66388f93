import type { RefusalReason } from '../labels/index.js';
import { MAX_OPERATION_LENGTH, MAX_OPERATION_NAMES_LIMIT } from '../labels/index.js';
import { quotedText } from '../shown-value.js';

/**
 * The one warning of a process whose operation label first reported a name as `other`: which
 * name, why, and what to do. A name the setting refused points at the setting; a name too long
 * has no setting, as no route template or track() name written in code is that long.
 */
export function operationNameWarning(
  name: string,
  reason: RefusalReason,
  maxNames: number,
): string {
  const shown = quotedText(name);
  if (reason === 'length') {
    return (
      `operation name ${shown} is over ${MAX_OPERATION_LENGTH} characters: it and every name ` +
      'that long are reported as "other" in carbonscope.operation, http.route and the snapshot; ' +
      'a name that long is most likely built from input (a path, an id): name it by its template'
    );
  }
  return (
    `operation name ${shown} is past the ${maxNames} names the carbonscope.operation and ` +
    `http.route labels keep (ENERGY_OPERATION_MAX_NAMES=${maxNames}): it and every new name ` +
    'after it are reported as "other" for the life of the process; if the names come from code ' +
    '(route templates, track() names), raise ENERGY_OPERATION_MAX_NAMES ' +
    `(${MAX_OPERATION_NAMES_LIMIT} at most); if they are built from input, name them by a bounded set`
  );
}
