// How long nvidia-smi takes to print its first line and to end on SIGTERM, per mode.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const modes = {
  lms: ['--query-gpu=index,uuid,name,power.draw', '--format=csv,noheader,nounits', '-lms', '1000'],
  pmon: ['pmon', '-s', 'u', '-d', '1'],
  mig: ['--query-gpu=index,mig.mode.current', '--format=csv,noheader'],
};
for (const [name, args] of Object.entries(modes)) {
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const child = spawn('nvidia-smi', args);
    let first;
    await new Promise((resolve) => {
      child.stdout.once('data', () => {
        first = performance.now() - t0;
        resolve();
      });
      child.on('close', resolve);
    });
    await new Promise((r) => setTimeout(r, 300));
    const k = performance.now();
    const closed = new Promise((r) => child.on('close', (c, s) => r(`${c} ${s}`)));
    child.kill('SIGTERM');
    const how = child.exitCode !== null ? 'already' : await closed;
    console.log(
      `${name}: first output ${first?.toFixed(1)} ms, SIGTERM to close ${(performance.now() - k).toFixed(1)} ms (${how})`,
    );
  }
}
