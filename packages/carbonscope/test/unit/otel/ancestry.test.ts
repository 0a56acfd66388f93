import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { isAncestor } from '../../../src/otel/ancestry.js';

describe('isAncestor: whether a pid is this process’s parent or a few steps above it', () => {
  it('its parent is; itself, a child and no pid are not', () => {
    expect(isAncestor(process.ppid)).to.equal(true);
    expect(isAncestor(process.pid)).to.equal(false);
    expect(isAncestor(Number.NaN)).to.equal(false);
    expect(isAncestor(0)).to.equal(false);
  });

  // A Node child that a shell started (child_process.exec): its starter is its grandparent.
  it('a node through a shell finds its starter two steps up (Linux /proc)', function () {
    if (process.platform !== 'linux') this.skip();
    const script = `import(${JSON.stringify(new URL('../../../src/otel/ancestry.js', import.meta.url).href)}).then((m) => console.log(m.isAncestor(${process.pid})))`;
    const out = spawnSync('/bin/sh', ['-c', `"${process.execPath}" -e '${script}'; true`], {
      encoding: 'utf8',
    });
    expect(out.stdout.trim(), out.stderr).to.equal('true');
  });
});
