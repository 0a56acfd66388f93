import { expect } from 'chai';
import { whenStopped } from '../../../src/runtime/index.js';
import {
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  scriptedCarbonscope,
} from '../energy/scripted.js';

// A releaseContexts that throws (the application's own, or a span processor's onEnd under
// releaseHeldSpans) left stop() there: its listeners stayed subscribed and what waits for the
// stop (register's last push, the default slot's forgetting) never ran.
describe('stop() with a releaseContexts that throws', () => {
  it('warns, and goes on to what waits for the stop', async () => {
    const { logger, lines } = memoryLogger();
    const cs = await scriptedCarbonscope({
      clock: new ScriptedClock(0),
      cpu: new ScriptedCpu(),
      logger,
      releaseContexts: () => {
        throw new Error('exporter gone');
      },
    });
    await cs.start();
    const after: string[] = [];
    whenStopped(cs, async () => {
      after.push('ran');
    });
    await cs.stop();
    expect(after).to.deep.equal(['ran']);
    const warned = lines
      .map((line) => String(line.msg))
      .filter((msg) => msg.includes('exporter gone'));
    expect(warned).to.have.length(1);
    expect(warned[0]).to.match(/releas/);
  });
});
