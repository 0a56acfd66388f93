import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { isPm2ClusterWorker, isPm2Daemon, mayRunPm2Daemon } from '../../src/pm2.js';
import { registerWaitsForCluster } from '../../src/stands-down.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

const FAKE_PM2 = join(libraryRoot, 'test', 'fixtures', 'register', 'pm2');

describe("pm2's daemon and its cluster workers, told by their real path in pm2's package", () => {
  it('lib/Daemon.js waits for a cluster; lib/ProcessContainer.js is its worker', () => {
    const daemon = join(FAKE_PM2, 'lib', 'Daemon.js');
    expect(isPm2Daemon(daemon)).to.equal(true);
    expect(registerWaitsForCluster(daemon)).to.equal(true);
    expect(isPm2ClusterWorker(join(FAKE_PM2, 'lib', 'ProcessContainer.js'))).to.equal(true);
    expect(isPm2ClusterWorker(daemon)).to.equal(false);
  });

  it('by a link to them too; not a file of that name in another package', () => {
    const dir = tempDirUntilExit('carbonscope-pm2-');
    const link = join(dir, 'Daemon.js');
    symlinkSync(join(FAKE_PM2, 'lib', 'Daemon.js'), link);
    expect(isPm2Daemon(link)).to.equal(true);
    // carbonscope's own package: a lib/Daemon.js there is no pm2's.
    expect(isPm2Daemon(join(libraryRoot, 'lib', 'Daemon.js'))).to.equal(false);
    expect(registerWaitsForCluster(join(FAKE_PM2, '..', 'cluster.js'))).to.equal(false);
    expect(registerWaitsForCluster(undefined)).to.equal(false);
  });

  it("pm2-runtime, and pm2's command with --no-daemon before any --, may run the daemon's part", () => {
    const bin = (name: string) => join(FAKE_PM2, 'bin', name);
    expect(registerWaitsForCluster(bin('pm2-runtime'), ['start', 'app.js', '-i', '2'])).to.equal(
      true,
    );
    expect(mayRunPm2Daemon(bin('pm2'), ['start', 'app.js', '--no-daemon'])).to.equal(true);
    expect(mayRunPm2Daemon(bin('pm2'), ['start', 'app.js'])).to.equal(false);
    expect(mayRunPm2Daemon(bin('pm2'), ['start', 'app.js', '--', '--no-daemon'])).to.equal(false);
    expect(isPm2Daemon(bin('pm2-runtime'))).to.equal(false);
  });
});
