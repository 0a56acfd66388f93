import { absoluteForm } from 'carbonscope';

/**
 * Where a request target's path begins: 0 for a path (`/metrics`), after the scheme and authority
 * of an absolute-form target (`http://a:3000/metrics`), which Koa's router serves by its path.
 * The form is read as the library's own Prometheus endpoint reads it (absoluteForm).
 */
export function targetPathStart(url: string): number {
  return absoluteForm(url)?.[0].length ?? 0;
}
