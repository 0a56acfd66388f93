// Arrival times of a piped long-running command's lines: argv[2] seconds, then the command.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const secs = Number(process.argv[2]);
const child = spawn(process.argv[3], process.argv.slice(4));
const t0 = performance.now();
let buf = '';
child.stdout.on('data', (d) => {
  const at = (performance.now() - t0).toFixed(1);
  buf += d;
  const lines = buf.split('\n');
  buf = lines.pop();
  for (const l of lines) console.log(`${at}\t${l}`);
});
child.stderr.on('data', (d) => console.log(`stderr\t${String(d).trim()}`));
setTimeout(() => child.kill('SIGTERM'), secs * 1000);
child.on('exit', (c, s) => console.log(`exit\t${c} ${s}`));
