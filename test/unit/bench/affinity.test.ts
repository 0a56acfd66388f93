import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import { allowedCpus, cpuSplit, pin } from '../../bench/affinity.js';

describe('bench: CPU affinity', () => {
  it('gives the servers the last CPU and the load the others', () => {
    expect(cpuSplit('0-1')).to.deep.equal({ load: '0', servers: '1' });
    expect(cpuSplit('0-7')).to.deep.equal({ load: '0-6', servers: '7' });
    expect(cpuSplit('0')).to.equal(undefined);
    expect(cpuSplit(undefined)).to.equal(undefined);
  });

  it("splits the CPUs the process may use, not the machine's", () => {
    // A container or a `taskset` may give the bench some CPUs only.
    expect(cpuSplit('2-3')).to.deep.equal({ load: '2', servers: '3' });
    expect(cpuSplit('0,2,4-5')).to.deep.equal({ load: '0,2,4', servers: '5' });
    expect(cpuSplit('0-1,4-6')).to.deep.equal({ load: '0-1,4-5', servers: '6' });
    expect(cpuSplit('5,3')).to.deep.equal({ load: '3', servers: '5' });
  });

  it('pins a process to the CPUs it is given', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)']);
    try {
      await once(child, 'spawn');
      const pid = child.pid as number;
      pin(pid, '0');
      expect(allowedCpus(pid)).to.equal('0');
    } finally {
      child.kill();
    }
  });

  it('says what is wrong with a process it cannot pin', () => {
    expect(() => pin(2 ** 22 + 12345, '0')).to.throw(/could not pin process/);
  });
});
