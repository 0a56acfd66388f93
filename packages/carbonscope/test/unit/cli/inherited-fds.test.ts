import { expect } from 'chai';
import { commandStdio, inheritedOf } from '../../../src/cli/inherited-fds.js';

const CLOEXEC = 0o2000000;

describe('inherited fds', () => {
  it("keeps what a parent gives (files, sockets, a pipe's one end), not Node's own", () => {
    const open = [
      { fd: 1, target: 'pipe:[1]', flags: 0o1 },
      { fd: 3, target: '/tmp/log', flags: CLOEXEC | 0o1 },
      { fd: 4, target: 'anon_inode:[eventpoll]', flags: CLOEXEC | 0o2 },
      { fd: 5, target: 'pipe:[7]', flags: CLOEXEC },
      { fd: 6, target: 'pipe:[7]', flags: CLOEXEC | 0o1 },
      { fd: 7, target: 'pipe:[8]', flags: CLOEXEC },
      { fd: 10, target: '/dev/null', flags: CLOEXEC | 0o100000 },
      { fd: 12, target: '/dev/null', flags: CLOEXEC | 0o1 },
      { fd: 40, target: 'socket:[9]', flags: 0o2 },
    ];
    expect(inheritedOf(open)).to.deep.equal([3, 7, 12, 40]);
  });

  // `run -- cmd 3>&1` with stdout a pipe (`| tee`, a CI's log): fds 1 and 3 are one write end,
  // counted as a pipe's two ends, so Node's own: the command got no fd 3 (Bad file descriptor).
  it('keeps a pipe end given at two fds, where no other end of it is held', () => {
    const open = [
      { fd: 0, target: 'pipe:[2]', flags: 0o0 },
      { fd: 1, target: 'pipe:[1]', flags: 0o1 },
      { fd: 3, target: 'pipe:[1]', flags: CLOEXEC | 0o1 },
      { fd: 4, target: 'pipe:[2]', flags: CLOEXEC },
    ];
    expect(inheritedOf(open)).to.deep.equal([3, 4]);
  });

  it('hands each at its own number, the fds between left as they are', () => {
    expect(commandStdio([])).to.equal('inherit');
    expect(commandStdio([3, 5])).to.deep.equal(['inherit', 'inherit', 'inherit', 3, 'ignore', 5]);
  });
});
