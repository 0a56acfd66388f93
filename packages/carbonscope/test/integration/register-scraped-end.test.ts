import { writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { childEnv } from '../helpers/child-env.js';
import { freePort } from '../helpers/ports.js';
import { spawnUntil } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../unit/energy/sources/helpers.js';

// A service under `--import carbonscope/register` with the Prometheus exporter, which ends by
// itself at SIGTERM (its handler closes its server), as `node --watch`, `tsx watch` and a
// container's stop ask it to. The endpoint's listening socket holds nothing, but a scraper's
// keep-alive connection did: scraped more often than the server's 5 s keep-alive timeout (a
// developer's Prometheus at 1 s, a browser tab, an agent), the process never ended, and a
// watcher's restart waited for it.
const REGISTER = fileURLToPath(new URL('../../src/register.js', import.meta.url));

const SERVICE = `import { createServer } from 'node:http';
const server = createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => console.log('up'));
process.once('SIGTERM', () => server.close());
`;

/** One scrape over `agent`'s kept-alive connection; its status, or 0 where it failed. */
function scrape(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', () => resolve(0));
  });
}

describe('carbonscope/register: a scraped service ends by itself', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('register-scraped-end'));
  });
  afterEach(() => cleanup());

  it("ends at its SIGTERM handler's close while a scraper's keep-alive connection is open", async () => {
    const script = join(dir, 'service.mjs');
    writeFileSync(script, SERVICE);
    const port = await freePort();
    const service = await spawnUntil(process.execPath, ['--import', REGISTER, script], {
      env: childEnv({
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        CARBON_INTENSITY: '300',
      }),
      waitFor: /^up$/,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let ended = false;
    try {
      await waitFor('the endpoint to answer', () => scrape(port, agent), {
        timeoutMs: 15_000,
        until: (status) => status === 200,
      });
      // Scraped every 0.2 s over the one connection until the service is gone.
      const scraping = (async () => {
        while (!ended) {
          await scrape(port, agent);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      service.proc.kill('SIGTERM');
      // Bounds a hang: held, the service is killed here and its end is SIGKILL's.
      const hung = setTimeout(() => service.proc.kill('SIGKILL'), 20_000);
      const end = await service.exited;
      clearTimeout(hung);
      ended = true;
      await scraping;
      expect(end, service.stderr.join('\n')).to.deep.equal({ code: 0, signal: null });
    } finally {
      ended = true;
      agent.destroy();
      await service.stop('SIGKILL');
    }
  });
});
