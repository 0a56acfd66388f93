import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import { allowedCpus, cpuSplit, pin } from '../../bench/affinity.js';

describe('bench: CPU affinity', () => {
  it('gives the servers the last CPU and the load the others', () => {
    expect(cpuSplit(2)).to.deep.equal({ load: '0', servers: '1' });
    expect(cpuSplit(8)).to.deep.equal({ load: '0-6', servers: '7' });
    expect(cpuSplit(1)).to.equal(undefined);
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
