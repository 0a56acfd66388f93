/**
 * Reads `perf script` output (samples with call stacks, JIT frames named through node's
 * jitdump) and counts the samples whose innermost JavaScript frame belongs to
 * one package: the CPU that package's own code used, with the V8 builtins, runtime and GC it
 * called into, and without the application code it calls (a `track(fn)`'s fn is the
 * application's).
 */

export interface OwnSamples {
  /** Every sample of the process. */
  total: number;
  /** Those whose innermost JavaScript frame is the package's. */
  own: number;
  /** The package's functions by the samples they were innermost in, most first. */
  functions: Array<[string, number]>;
}

/**
 * A JIT frame as `perf inject --jit` names it from node's jitdump (--perf-prof):
 * `JS:*name url:line:column+0xoffset (.../jitted-PID-N.so)`. The mark before the name is V8's
 * tier (`*` TurboFan, `^` Sparkplug, `~` the interpreter, `'` Maglev on Node 22 and later): left
 * out, so a function keeps one name whichever tier ran it.
 */
const JS_FRAME = /^\s*[0-9a-f]+ JS:[*^~+']?(.*?)(\+0x[0-9a-f]+)? \(\/.*\/jitted-\d+-\d+\.so\)$/;

/** The sample's innermost JavaScript frame (its function and where), if it has one. */
function innermostJs(frames: readonly string[]): string | undefined {
  for (const frame of frames) {
    const m = JS_FRAME.exec(frame);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * `ownDir` is the package's directory as frames name it (an ESM frame's `file://` URL or a CJS
 * path both contain it). `alsoOwn`: frames, by how they begin (`publish node:diagnostics_channel:`),
 * that run only for the package, where the JIT may have inlined its functions. A sample is a
 * header line, its frames (leaf first, one per line, indented) and a blank line.
 */
export function countOwnSamples(
  script: string,
  ownDir: string,
  alsoOwn: readonly string[] = [],
): OwnSamples {
  const marker = ownDir.endsWith('/') ? ownDir : `${ownDir}/`;
  const byFunction = new Map<string, number>();
  let total = 0;
  let own = 0;
  let frames: string[] = [];
  let inSample = false;
  const flush = () => {
    if (!inSample) return;
    inSample = false;
    total++;
    const js = innermostJs(frames);
    frames = [];
    if (js === undefined) return;
    const inPackage = js.includes(marker);
    if (!inPackage && !alsoOwn.some((prefix) => js.startsWith(prefix))) return;
    own++;
    const space = js.indexOf(' ');
    const name = (space > 0 ? js.slice(0, space) : '') || '(anonymous)';
    const where = inPackage ? js.slice(js.indexOf(marker) + marker.length) : js.slice(space + 1);
    const key = `${name} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + 1);
  };
  for (const line of script.split('\n')) {
    if (line.trim() === '') {
      flush();
    } else if (/^\s/.test(line)) {
      if (inSample) frames.push(line);
    } else {
      // A header: the previous sample (if its blank line was missing) ends here.
      flush();
      inSample = true;
    }
  }
  flush();
  const functions = [...byFunction].sort((a, b) => b[1] - a[1]);
  return { total, own, functions };
}
