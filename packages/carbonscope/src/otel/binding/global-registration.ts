/**
 * Where every copy of the OTel API (1.x) keeps its globals: `metrics.setGlobalMeterProvider`, of
 * whichever copy the application uses, assigns the provider to this object's `metrics`.
 */
const API_KEY = Symbol.for('opentelemetry.js.api.1');

/** What every copy of the API 1.x has registered, read without asking the API (see apiGlobals). */
export interface ApiGlobals {
  readonly metrics?: unknown;
  readonly diag?: unknown;
}

/**
 * The API's global object, where a registration through any copy of it lands; undefined before
 * the first. Read here, not through the API: it offers no way to ask what was registered without
 * replacing it, or logging.
 */
export function apiGlobals(): ApiGlobals | undefined {
  const api = (globalThis as unknown as Holder)[API_KEY];
  return typeof api === 'object' && api !== null ? api : undefined;
}

type Listener = () => void;

const listeners = new Set<Listener>();
/** Puts back what the watch changed; undefined while nothing is watched. */
let unhook: (() => void) | undefined;

/**
 * Calls `listener` each time a meter provider is registered globally, as the assignment is made
 * (inside the application's setGlobalMeterProvider, so before it can shut that provider down),
 * until the returned function is called. Registering stays the API's own: the watch only hears
 * of it, and what throws in a listener stays here. Not heard: a registration after
 * `metrics.disable()` (which deletes the watched property), or through another major version.
 */
export function onGlobalMeterProviderSet(listener: Listener): () => void {
  listeners.add(listener);
  unhook ??= hookGlobal();
  return () => {
    listeners.delete(listener);
    if (listeners.size > 0) return;
    unhook?.();
    unhook = undefined;
  };
}

function tell(): void {
  for (const listener of [...listeners]) {
    try {
      listener();
    } catch {
      // The application's registration must not fail for carbonscope's sake.
    }
  }
}

type Holder = Record<PropertyKey, unknown>;

/**
 * Watches `metrics` of the API's global object; where no copy of the API has made that object
 * yet, watches for it first (the API makes it at its first registration of anything). That watch
 * ends as the object is made: the API reads it at each call (context.active(), each span's start),
 * through an accessor a call of carbonscope's each time.
 */
function hookGlobal(): () => void {
  const holder = globalThis as unknown as Holder;
  const api = apiGlobals();
  if (api) return watch(api as Holder, 'metrics', tell);
  let unhookApi: (() => void) | undefined;
  const unhookHolder: () => void = watch(holder, API_KEY, () => {
    const made = holder[API_KEY];
    if (typeof made !== 'object' || made === null || unhookApi) return;
    unhookHolder();
    unhookApi = watch(made as Holder, 'metrics', tell);
    // A provider in the object as it was made (one assigned whole) is a registration too.
    if ((made as Holder).metrics !== undefined) tell();
  });
  return () => {
    unhookHolder();
    unhookApi?.();
  };
}

/**
 * Turns `target[key]` into an accessor that calls `changed` after each assignment, keeping its
 * value and any accessor it was already (another copy's watch). The returned function puts a
 * plain property back, with the value it holds then, unless the property was since replaced.
 */
function watch(target: Holder, key: PropertyKey, changed: () => void): () => void {
  const before = Object.getOwnPropertyDescriptor(target, key);
  if ((before && !before.configurable) || (!before && !Object.isExtensible(target))) {
    return () => undefined;
  }
  let value = before?.value;
  const get = function (this: unknown) {
    return before?.get ? before.get.call(this) : value;
  };
  const set = function (this: unknown, next: unknown) {
    if (before?.set) before.set.call(this, next);
    else value = next;
    changed();
  };
  try {
    Object.defineProperty(target, key, { configurable: true, enumerable: true, get, set });
  } catch {
    // A frozen global object: the samples look instead.
    return () => undefined;
  }
  return () => {
    if (Object.getOwnPropertyDescriptor(target, key)?.get !== get) return;
    if (before?.get || before?.set) {
      Object.defineProperty(target, key, before);
      return;
    }
    const held = value;
    delete target[key];
    // Absent before and never assigned: absent again.
    if (before || held !== undefined) {
      Object.defineProperty(target, key, {
        configurable: true,
        enumerable: before?.enumerable ?? true,
        writable: true,
        value: held,
      });
    }
  };
}
