import { lookUp } from '../look-up.js';

/**
 * Express 4's layers (path-to-regexp 0.1.x) keep a mount's RegExp and its keys, never the path
 * it was made from. The path is read back off the RegExp's source, and kept only where the app's
 * own Layer, given that path, makes the very same RegExp and keys: then it matches exactly what
 * the mount matches, whatever path-to-regexp 0.1 release the app runs. Where it does not (a
 * star parameter, a group of the path's own, a RegExp with the lookahead Express adds), the
 * mount's template is unknown: a wrong template is worse than none. Read once per RegExp.
 */

/** A mount's template where the layer has one path, or the alternative that matched (arrays). */
export type Pattern = string | RegExp;

interface Alternative {
  pattern: Pattern;
  regexp: RegExp;
}

/** Express 4 ends a mount's RegExp with this (`end: false`); an app's RegExp mount has none. */
const LOOKAHEAD = '(?=\\/|$)';
/** A parameter's own capture when the path gives none (path-to-regexp 0.1.7 and 0.1.10+). */
const DEFAULT_CAPTURES = new Set(['([^/]+?)', '([^/\\.]+?)']);
/** As read with its '/' unescaped. */
const BACKTRACK_START = '((?:(?!/|';
const BACKTRACK_END = ').)+?)';
const UNKNOWN: readonly Alternative[] = [];
/**
 * Per RegExp, not per layer: an app that gives a layer another RegExp (a mount moved in place)
 * has it read again, where a layer's answer would name it by the path it had.
 */
const known = new WeakMap<RegExp, readonly Alternative[]>();

type Flagged = RegExp & { fast_slash?: unknown; fast_star?: unknown };

/** The RegExp Express 4 matches the layer with; none that an exec() of ours would move on. */
function regexpOf(layer: object): Flagged | undefined {
  const re = lookUp<unknown>(layer, 'regexp');
  return re instanceof RegExp && !re.global && !re.sticky ? re : undefined;
}

/** As Express 4's decode_param: a value that does not decode makes its layer no match. */
function decodes(value: string | undefined): boolean {
  if (value === undefined || value === '') return true;
  try {
    decodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The text at the start of `rest` that an Express 4 layer matches (its `layer.path`, as its
 * match() would set it), undefined where it does not match. The layer's own match() is not
 * called: it writes params and path onto the layer, which the app's requests share.
 */
export function express4Match(layer: object, rest: string): string | undefined {
  try {
    return matchOf(layer, rest);
  } catch {
    // Matched from Node's finish channel, a throw (a getter of the layer's own, an exec the app
    // gave its RegExp) would be the process's uncaught exception: such a layer matches nothing.
    return undefined;
  }
}

function matchOf(layer: object, rest: string): string | undefined {
  const re = regexpOf(layer);
  if (re === undefined) return undefined;
  if (re.fast_slash === true) return '';
  if (re.fast_star === true) return decodes(rest) ? rest : undefined;
  const m = re.exec(rest);
  if (m === null) return undefined;
  for (let i = 1; i < m.length; i++) if (!decodes(m[i])) return undefined;
  return m[0];
}

/** The template of the mount's path that matches `rest`; undefined where it cannot be read. */
export function express4Pattern(layer: object, rest: string): Pattern | undefined {
  const alternatives = alternativesOf(layer);
  if (alternatives.length === 1) return alternatives[0]?.pattern;
  return alternatives.find((a) => a.regexp.test(rest))?.pattern;
}

/** The mount's templates, one per path of an array; none where they cannot be read. */
export function express4Patterns(layer: object): readonly Pattern[] {
  return alternativesOf(layer).map((a) => a.pattern);
}

function alternativesOf(layer: object): readonly Alternative[] {
  // Read from Node's finish channel, a throw (a layer of an odd shape, a getter of its own)
  // would be the process's uncaught exception: such a layer's template is unknown.
  let re: RegExp | undefined;
  try {
    re = regexpOf(layer);
  } catch {
    return UNKNOWN;
  }
  if (re === undefined) return UNKNOWN;
  let found = known.get(re);
  if (found === undefined) {
    try {
      found = readAlternatives(layer, re);
    } catch {
      found = UNKNOWN;
    }
    known.set(re, found);
  }
  return found;
}

function readAlternatives(layer: object, re: RegExp): readonly Alternative[] {
  const keys = lookUp<unknown>(layer, 'keys');
  if (!Array.isArray(keys)) return UNKNOWN;
  // What path-to-regexp returns of a RegExp path is that RegExp itself: named as OTel names it.
  if (!re.source.includes(LOOKAHEAD)) return [{ pattern: re, regexp: re }];
  const parts = topLevelAlternatives(re.source);
  const names = keys.map((k: { name?: unknown } | undefined) => k?.name).filter(isName);
  const paths: string[] = [];
  for (const part of parts) {
    const path = pathOfSource(part, names);
    if (path === undefined) return UNKNOWN;
    paths.push(path);
  }
  // An array of one is a path of its own to 0.1.10 and later, an array wrapped in (?:…) to 0.1.7.
  const one = paths.length === 1 && rebuildsAs(layer, paths[0], re, keys);
  if (!one && !rebuildsAs(layer, paths, re, keys)) return UNKNOWN;
  if (paths.length === 1) return [{ pattern: paths[0] as string, regexp: re }];
  return paths.map((path, i) => ({
    pattern: path,
    regexp: new RegExp(parts[i] as string, re.flags),
  }));
}

function isName(name: unknown): name is string {
  return typeof name === 'string' && /^\w+$/.test(name);
}

interface KeyLike {
  name?: unknown;
  optional?: unknown;
}

/**
 * True where the app's own Layer (the layer's constructor) makes, of `path` as a mount, the
 * layer's RegExp and keys: the proof that `path` matches what the layer matches. Every mount of
 * Express 4 is made non-strict and non-ending; its case rule is in the RegExp's flags. The copy
 * is all the Layer makes (and, under DEBUG=express:router:layer, one `new` line per RegExp read).
 */
function rebuildsAs(layer: object, path: unknown, re: RegExp, keys: unknown[]): boolean {
  const Layer = Object.getPrototypeOf(layer)?.constructor as unknown;
  if (typeof Layer !== 'function') return false;
  try {
    const options = { sensitive: !re.flags.includes('i'), strict: false, end: false };
    const copy = new (Layer as new (...a: unknown[]) => { regexp?: unknown; keys?: unknown })(
      path,
      options,
      () => undefined,
    );
    const again = copy.regexp;
    if (!(again instanceof RegExp) || again.source !== re.source || again.flags !== re.flags) {
      return false;
    }
    return sameKeys(copy.keys, keys);
  } catch {
    return false;
  }
}

function sameKeys(a: unknown, b: unknown[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  return a.every((k: KeyLike | undefined, i) => {
    const o = b[i] as KeyLike | undefined;
    return k?.name === o?.name && k?.optional === o?.optional;
  });
}

/**
 * Where the group opened at `start` closes (the index after its ')'), -1 where it does not:
 * escapes and character classes skipped.
 */
function groupEnd(source: string, start: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * An array path's sources, joined by '|' (none inside a group or class counts); path-to-regexp
 * 0.1.7 (Express 4.17 to 4.19) wraps the lot in `(?:…)`.
 */
function topLevelAlternatives(whole: string): string[] {
  const wrapped = whole.startsWith('(?:') && groupEnd(whole, 0) === whole.length;
  const source = wrapped ? whole.slice(3, -1) : whole;
  const parts: string[] = [];
  let from = 0;
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(source.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(source.slice(from));
  return parts;
}

/**
 * The path one alternative's source was made from, as path-to-regexp 0.1 makes it:
 * `^` + the path + `\/?` + LOOKAHEAD, its parameters `(?:\/(capture))?`, `*` as `(.*)`.
 * A candidate only: rebuildsAs is what proves it.
 */
function pathOfSource(source: string, names: string[]): string | undefined {
  if (!source.startsWith('^') || !source.endsWith(`\\/?${LOOKAHEAD}`)) return undefined;
  const body = source.slice(1, -(LOOKAHEAD.length + 3));
  let path = '';
  for (let i = 0; i < body.length; ) {
    const c = body[i] as string;
    if (c === '\\') {
      const n = body[i + 1];
      if (n === undefined) return undefined;
      path += n === '/' || n === '.' ? n : c + n;
      i += 2;
    } else if (body.startsWith('(.*)', i)) {
      path += '*';
      i += 4;
    } else if (body.startsWith('(?:', i)) {
      const param = parameterAt(body, i, names);
      if (param === undefined) return undefined;
      path += param.text;
      i = param.end;
    } else {
      path += c;
      i++;
    }
  }
  return path;
}

/** `(?:\.?\/?(capture))?` at `at`: the parameter it was made of, named by the next key. */
function parameterAt(
  body: string,
  at: number,
  names: string[],
): { text: string; end: number } | undefined {
  let i = at + 3;
  const format = body.startsWith('\\.', i);
  if (format) i += 2;
  const slash = body.startsWith('\\/', i);
  if (slash) i += 2;
  if (body[i] !== '(') return undefined;
  const end = groupEnd(body, i);
  const name = names.shift();
  if (end < 0 || name === undefined || body[end] !== ')') return undefined;
  const capture = body.slice(i, end).replaceAll('\\/', '/');
  const own = isDefaultCapture(capture) ? '' : capture;
  const optional = body[end + 1] === '?';
  const text = `${slash ? '/' : ''}${format ? '.' : ''}:${name}${own}${optional ? '?' : ''}`;
  return { text, end: end + 1 + (optional ? 1 : 0) };
}

function isDefaultCapture(capture: string): boolean {
  if (DEFAULT_CAPTURES.has(capture)) return true;
  // The capture of a parameter after text in its segment (`/dash-:a-:b`), 0.1.10 and later.
  return capture.startsWith(BACKTRACK_START) && capture.endsWith(BACKTRACK_END);
}
