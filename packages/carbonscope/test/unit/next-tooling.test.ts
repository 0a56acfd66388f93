import { mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { registerRole } from '../../src/register-role.js';
import { scratchFolder } from '../helpers/scratch-folder.js';

// Next 16.5's processes, as read off `next build`, `next dev` and `next start` under NODE_OPTIONS:
// its CLI (node_modules/.bin/next, a link to dist/bin/next), the server `next dev` forks
// (dist/server/lib/start-server.js), the workers build and dev start for static pages, and the
// detached process that flushes Next's telemetry as a command ends.
describe("registerRole: Next.js's build, dev launcher and workers are no application process", () => {
  const scratch = scratchFolder('cs-next-');
  const { file } = scratch;

  /** A package named `name` holding Next's files; returns the link npm makes to its CLI. */
  async function nextPackage(name: string): Promise<string> {
    await file(
      'node_modules/next/package.json',
      JSON.stringify({ name, bin: { next: './dist/bin/next' } }),
    );
    const cli = await file('node_modules/next/dist/bin/next');
    await file('node_modules/next/dist/lib/worker/worker-process-child.js');
    await file('node_modules/next/dist/compiled/jest-worker/processChild.js');
    await file('node_modules/next/dist/server/lib/start-server.js');
    await file('node_modules/next/dist/telemetry/detached-flush.js');
    const link = join(scratch.dir, 'node_modules/.bin/next');
    await mkdir(dirname(link), { recursive: true });
    await symlink(cli, link);
    return link;
  }

  it('next build and next dev (also by default) stand down; next start measures', async () => {
    const next = await nextPackage('next');
    expect(registerRole(next, ['build'])).to.equal('stands-down');
    expect(registerRole(next, ['build', '--no-lint'])).to.equal('stands-down');
    expect(registerRole(next, ['dev', '-p', '3000'])).to.equal('stands-down');
    expect(registerRole(next, [])).to.equal('stands-down');
    expect(registerRole(next, ['--turbopack'])).to.equal('stands-down');
    expect(registerRole(next, ['start'])).to.equal('measures');
    expect(registerRole(next, ['start', '-p', '3000'])).to.equal('measures');
  });

  it("Next's worker processes stand down; the server next dev forks measures", async () => {
    await nextPackage('next');
    const lib = join(scratch.dir, 'node_modules/next/dist');
    expect(registerRole(join(lib, 'lib/worker/worker-process-child.js'), [])).to.equal(
      'stands-down',
    );
    expect(registerRole(join(lib, 'compiled/jest-worker/processChild.js'), [])).to.equal(
      'stands-down',
    );
    expect(registerRole(join(lib, 'telemetry/detached-flush.js'), ['dev', scratch.dir])).to.equal(
      'stands-down',
    );
    expect(registerRole(join(lib, 'server/lib/start-server.js'), [])).to.equal('measures');
  });

  it("an application's own files of those names measure", async () => {
    const next = await nextPackage('my-app');
    expect(registerRole(next, ['build'])).to.equal('measures');
    const lib = join(scratch.dir, 'node_modules/next/dist');
    expect(registerRole(join(lib, 'lib/worker/worker-process-child.js'), [])).to.equal('measures');
  });
});
