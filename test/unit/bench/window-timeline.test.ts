import { expect } from 'chai';
import { BETWEEN, WindowTimeline } from '../../bench/window-timeline.js';

describe('bench: which side of a calibration window a request was charged on', () => {
  /** Requests start every 10 ms; a window is open from 100 to 200 ms and from 500 to 600. */
  function timeline(): { t: WindowTimeline; startWindow: (ms: number) => number } {
    const t = new WindowTimeline();
    const windowAt = new Map<number, number>();
    for (let ms = 0; ms <= 800; ms += 10) {
      const measuring = (ms >= 100 && ms < 200) || (ms >= 500 && ms < 600);
      windowAt.set(ms, t.observe(ms, measuring));
    }
    return { t, startWindow: (ms) => windowAt.get(ms) as number };
  }

  it('numbers each window anew and answers BETWEEN outside them', () => {
    const { startWindow } = timeline();
    expect(startWindow(50)).to.equal(BETWEEN);
    expect(startWindow(150)).to.equal(1);
    expect(startWindow(550)).to.equal(2);
    expect(startWindow(700)).to.equal(BETWEEN);
  });

  it('calls a request measured only when it began and ended in the same window', () => {
    const { t, startWindow } = timeline();
    expect(t.sideOf(startWindow(120), 120, 180)).to.equal('measured');
    // Began in the first window, ended after it closed, or in the next one.
    expect(t.sideOf(startWindow(150), 150, 250)).to.equal('mixed');
    expect(t.sideOf(startWindow(150), 150, 550)).to.equal('mixed');
  });

  it('calls a request estimated only when no window was open at any point of it', () => {
    const { t, startWindow } = timeline();
    expect(t.sideOf(startWindow(20), 20, 90)).to.equal('estimated');
    expect(t.sideOf(startWindow(300), 300, 450)).to.equal('estimated');
    // Into a window, and across a whole one between its ends.
    expect(t.sideOf(startWindow(80), 80, 130)).to.equal('mixed');
    expect(t.sideOf(startWindow(300), 300, 650)).to.equal('mixed');
    // After the last change seen: still between windows.
    expect(t.sideOf(startWindow(700), 700, 900)).to.equal('estimated');
  });
});
