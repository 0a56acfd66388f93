import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setRoute } from '../route.js';

const VALUE = Symbol('carbonscope.koa.matchedRoute');
type KoaContext = { req?: IncomingMessage; [VALUE]?: unknown };

let installed = false;

/** Where Koa would be found by the application: beside its entry script, else the cwd. */
function koaContextFile(): string | undefined {
  const from = [process.argv[1] ? dirname(process.argv[1]) : undefined, process.cwd()];
  for (const dir of from) {
    if (!dir) continue;
    try {
      const pkg = createRequire(join(dir, 'noop.js')).resolve('koa/package.json');
      return join(dirname(pkg), 'lib', 'context.js');
    } catch {
      // not there; try the next place
    }
  }
  return undefined;
}

/**
 * @koa/router writes the matched template to `ctx._matchedRoute`. Every Koa context inherits
 * from the module-level prototype in koa/lib/context.js, so an accessor there sees that write
 * (with the request at hand as `this.req`) for every Koa app of the process. Koa itself is not
 * imported for this: its context module is loaded from where the application would load it,
 * which is the same module instance the application uses.
 */
export function installKoaRoutes(): void {
  if (installed) return;
  installed = true;
  const file = koaContextFile();
  if (!file) return;
  let proto: object;
  try {
    proto = createRequire(file)(file) as object;
  } catch {
    return;
  }
  if (Object.getOwnPropertyDescriptor(proto, '_matchedRoute')) return;
  Object.defineProperty(proto, '_matchedRoute', {
    configurable: true,
    enumerable: false,
    get(this: KoaContext) {
      return this[VALUE];
    },
    set(this: KoaContext, route: unknown) {
      this[VALUE] = route;
      if (typeof route === 'string' && this.req) setRoute(this.req, route);
    },
  });
}
