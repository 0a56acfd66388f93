/**
 * The blocking-job scenario of the attribution benchmark, in a process of its own: the meter
 * samples every second while a tracked `tick` (2 ms of CPU every 20 ms) runs in the background;
 * then `track('job', …)` blocks the event loop for 2 s. The job lies inside one sample interval
 * (the meter's timer cannot fire while it blocks), so its CPU's share of that interval's process
 * energy is the reference: the interval's process joules × the job's CPU (process.cpuUsage()
 * around it) ÷ the process's CPU in the interval. Prints one JSON line: the job's settled
 * joules, that reference, the interval's process joules and their ratio.
 * ENERGY_OPERATION_ATTRIBUTION and the other settings come from the environment.
 */
import { Carbonscope, type EnergySample, type OperationFootprint } from 'carbonscope';
import { blockFor, burn } from './cpu-work.js';

const cs = await Carbonscope.create({ env: process.env });
await cs.start();
// The meter's timer does not keep a process alive; the ticks do.
const tick = setInterval(() => cs.track('tick', () => burn(600_000)), 20);
await cs.firstSample();
// Long enough for a calibration window to have seen `tick`.
await new Promise((resolve) => setTimeout(resolve, 3500));

const settled = new Promise<OperationFootprint>((resolve) => {
  cs.onEnd((f) => {
    if (f.operation === 'job') resolve(f);
  });
});
const nextSample = new Promise<EnergySample>((resolve) => {
  const off = cs.onSample((s) => {
    off();
    resolve(s);
  });
});
let atEnd: OperationFootprint | undefined;
cs.onFinish((f) => {
  if (f.operation === 'job') atEnd = f;
});
const cpu0 = process.cpuUsage();
cs.track('job', () => blockFor(2000));
const cpu = process.cpuUsage(cpu0);
const sample = await nextSample;
const job = await settled;
clearInterval(tick);

const jobCpuSeconds = (cpu.user + cpu.system) / 1e6;
const reference = (sample.processJoules * jobCpuSeconds) / sample.processCpuSeconds;
console.log(
  JSON.stringify({
    mode: cs.settings.energy.operationAttribution,
    jobJoules: job.joules,
    provisionalJoules: atEnd?.joules,
    referenceJoules: reference,
    intervalProcessJoules: sample.processJoules,
    intervalSeconds: sample.elapsedMs / 1000,
    jobCpuSeconds,
    intervalCpuSeconds: sample.processCpuSeconds,
    ratio: job.joules / reference,
  }),
);
await cs.stop();
