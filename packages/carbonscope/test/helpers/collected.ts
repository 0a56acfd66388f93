import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection on demand, to see what the code under test keeps alive: the flag holds for
// contexts made after it, so a fresh context's `gc` is a real one without `--expose-gc` given.
setFlagsFromString('--expose-gc');
export const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Whether what `held` refers to is collected within five collections 20 ms apart: a closed
 * server's listening handle lets go of it once its close has run in the loop.
 */
export async function collected(held: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 5 && held.deref(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    collectGarbage();
  }
  return held.deref() === undefined;
}
