import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libraryRoot } from '../../src/paths.js';
import { isPm2ClusterWorker, isPm2Daemon, mayRunPm2Daemon } from '../../src/pm2.js';
import { registerRole } from '../../src/register-role.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

const FAKE_PM2 = join(libraryRoot, 'test', 'fixtures', 'register', 'pm2');
const bin = (name: string) => join(FAKE_PM2, 'bin', name);

describe("pm2's daemon and its cluster workers, told by their real path in pm2's package", () => {
  // pm2 starts its daemon by the file's own path, with no link; the application runs in its
  // containers (ProcessContainer.js in cluster mode), measured.
  it('lib/Daemon.js waits for a cluster; lib/ProcessContainer.js is its worker', () => {
    const daemon = join(FAKE_PM2, 'lib', 'Daemon.js');
    const container = join(FAKE_PM2, 'lib', 'ProcessContainer.js');
    expect(registerRole(daemon, [])).to.equal('pm2-daemon');
    expect(isPm2ClusterWorker(container)).to.equal(true);
    expect(registerRole(container, [])).to.equal('measures');
    expect(isPm2ClusterWorker(daemon)).to.equal(false);
  });

  it('by a link to them too; not a file of that name in another package', () => {
    const dir = tempDirUntilExit('carbonscope-pm2-');
    const link = join(dir, 'Daemon.js');
    symlinkSync(join(FAKE_PM2, 'lib', 'Daemon.js'), link);
    expect(isPm2Daemon(link)).to.equal(true);
    // carbonscope's own package: a lib/Daemon.js there is no pm2's.
    expect(isPm2Daemon(join(libraryRoot, 'lib', 'Daemon.js'))).to.equal(false);
    expect(registerRole(join(FAKE_PM2, '..', 'cluster.js'), [])).to.equal('measures');
    expect(registerRole(undefined, [])).to.equal('measures');
  });

  it("pm2-runtime, and pm2's command with --no-daemon before any --, may run the daemon's part", () => {
    const runtime = registerRole(bin('pm2-runtime'), ['start', 'app.js', '-i', '2']);
    expect(runtime).to.equal('may-run-pm2-daemon');
    expect(mayRunPm2Daemon(bin('pm2'), ['start', 'app.js', '--no-daemon'])).to.equal(true);
    expect(mayRunPm2Daemon(bin('pm2'), ['start', 'app.js'])).to.equal(false);
    expect(mayRunPm2Daemon(bin('pm2'), ['start', 'app.js', '--', '--no-daemon'])).to.equal(false);
    expect(isPm2Daemon(bin('pm2-runtime'))).to.equal(false);
  });

  // pm2's command hands the application to its daemon, which forks it: a launcher.
  it("pm2's command, with a daemon: register stands down", () => {
    expect(registerRole(bin('pm2'), ['start', 'app.js'])).to.equal('stands-down');
  });
});
