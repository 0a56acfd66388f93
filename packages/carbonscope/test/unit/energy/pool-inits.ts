import { PoolWork } from '../../../src/energy/pool-work.js';

/** Calls of PoolWork's init hook (each async resource made while one is on), until restore(). */
export interface PoolInits {
  count: number;
  restore(): void;
}

/** Counts the calls of every PoolWork's init hook from now on: call restore() in a `finally`. */
export function countPoolInits(): PoolInits {
  const proto = PoolWork.prototype as unknown as { init: (id: number, type: string) => void };
  const { init } = proto;
  const inits: PoolInits = {
    count: 0,
    restore: () => {
      proto.init = init;
    },
  };
  proto.init = function (this: PoolWork, id: number, type: string) {
    inits.count++;
    init.call(this, id, type);
  };
  return inits;
}
