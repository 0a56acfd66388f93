import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Spawned, spawnUntil } from '#library-tests/helpers/spawn.js';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { postActivity } from '../helpers/predict-request.js';
import { freePort, SERVER_ENTRY, untilReady } from '../helpers/spawn-server.js';

// strace sees every connection the process opens, native code's included (a library's own DNS
// lookups never pass through Node's net or dns modules).
function requireStrace(): void {
  const probe = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error("strace is missing: install Debian's strace (tools/test-setup.sh does so)");
  }
}

/** `connect`, `sendto` and `sendmsg` to an IPv4 or IPv6 address, from an strace log. */
function remoteAddresses(log: string): Array<{ address: string; port: number }> {
  const found: Array<{ address: string; port: number }> = [];
  const pattern =
    /sa_family=AF_INET6?, sin6?_port=htons\((\d+)\),.*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")/g;
  for (const m of log.matchAll(pattern)) {
    found.push({ address: m[2] ?? m[3], port: Number(m[1]) });
  }
  return found;
}

const isLoopback = (address: string) =>
  /^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address);

/** The traced process's pid: strace's only child. */
function tracee(strace: Spawned): number {
  const pid = strace.proc.pid as number;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return Number(children.split(' ')[0]);
}

describe('outbound connections (spawned service under strace)', function () {
  this.timeout(90_000);
  // The service's working directory, HOME and TMPDIR, and strace's log.
  const dir = tempDirUntilExit('carbonscope-outbound-');

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the lines strace writes for IPv4 and IPv6 peers', () => {
    const log = [
      '2277  connect(25, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16 <unfinished ...>',
      '31 connect(22, {sa_family=AF_INET6, sin6_port=htons(8001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
      '40 connect(23, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = -1 ENOENT',
    ].join('\n');
    expect(remoteAddresses(log)).to.deep.equal([
      { address: '10.255.255.53', port: 53 },
      { address: '::1', port: 8001 },
    ]);
  });

  it('with nothing configured, reaches no address beyond loopback (DNS included)', async () => {
    requireStrace();
    const log = join(dir, 'strace.log');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const strace = await spawnUntil(
      'strace',
      [
        '-f',
        '-qq',
        '-e',
        'trace=connect,sendto,sendmsg',
        '-o',
        log,
        process.execPath,
        SERVER_ENTRY,
      ],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          TMPDIR: dir,
          HOST: '127.0.0.1',
          PORT: String(port),
          LOG_LEVEL: 'info',
        },
        waitFor: /listening on/,
        timeoutMs: 40_000,
      },
    );
    try {
      await untilReady(url);
      const json = { 'content-type': 'application/json', accept: 'application/json' };
      const answers = await Promise.all([
        postActivity(url),
        fetch(`${url}/chat`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
        }),
        fetch(`${url}/carbon_intensity`, { headers: json }),
        fetch(`${url}/energy`),
        fetch(`${url}/metrics`),
      ]);
      for (const res of answers) {
        await res.arrayBuffer();
        expect(res.status, res.url).to.equal(200);
      }
      // A library may phone home on its own timer: ONNX Runtime's telemetry first looked its
      // collector up ~9 s after its session started, then every few seconds.
      await new Promise((r) => setTimeout(r, 12_000));
    } finally {
      process.kill(tracee(strace), 'SIGTERM');
      await strace.exited;
    }
    const peers = remoteAddresses(readFileSync(log, 'utf8'));
    expect(peers.length, 'strace saw the connections to the service').to.be.greaterThan(0);
    expect(peers.filter((p) => !isLoopback(p.address))).to.deep.equal([]);
  });
});
