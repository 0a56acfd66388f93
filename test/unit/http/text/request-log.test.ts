import { expect } from 'chai';
import Koa from 'koa';
import { envelope } from '../../../../src/http/envelope.js';
import { captureLogger } from '../../../helpers/log.js';

/** Runs one request through the envelope (which writes the log line) with `handler` as the rest of the app. */
async function serve(level: string, handler: Koa.Middleware, path = '/some/path?x=1') {
  const { logger, lines } = captureLogger(level);
  const app = new Koa();
  app.silent = true;
  app.use(envelope(logger));
  app.use(handler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    await res.arrayBuffer();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('request log', () => {
  it('writes one info line per request at info level, with path, status and duration', async () => {
    const lines = await serve('info', (ctx) => {
      ctx.body = { ok: true };
    });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ msg: 'request', level: 30, method: 'GET', path: '/some/path' });
    expect(lines[0]).to.include({ status: 200 });
    expect(lines[0].durationMs).to.be.a('number');
  });

  it('writes nothing for a successful request at warn level', async () => {
    const lines = await serve('warn', (ctx) => {
      ctx.body = { ok: true };
    });
    expect(lines).to.deep.equal([]);
  });

  it('still writes a 5xx at warn level, as an error line', async () => {
    const lines = await serve('warn', (ctx) => {
      ctx.status = 503;
      ctx.body = { error: 'unavailable' };
    });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ msg: 'request', level: 50, status: 503 });
  });

  // The library masks a URL's secret-named matrix parameters everywhere else (servlet
  // containers and Spring read `;jsessionid=`, `;token=`): the request line showed them.
  it('masks the value of a secret-named matrix parameter in the path, keeping the rest', async () => {
    const lines = await serve(
      'info',
      (ctx) => {
        ctx.body = { ok: true };
      },
      '/files;jsessionid=SESSION-s3cret/a;token=TOKEN-s3cret;v=2?x=1',
    );
    expect(lines).to.have.length(1);
    expect(lines[0].path).to.equal('/files;jsessionid=[redacted]/a;token=[redacted];v=2');
  });

  it("masks them, and keeps the path short, in a failed request's error line too", async () => {
    const lines = await serve(
      'info',
      () => {
        throw new Error('boom');
      },
      `/x;token=TOKEN-s3cret/${'a'.repeat(5000)}`,
    );
    expect(lines.map((l) => l.msg)).to.deep.equal(['request failed', 'request']);
    for (const line of lines) {
      expect(line.path).to.have.length.at.most(200);
      expect(line.path).to.match(/^\/x;token=\[redacted\]\/a+$/);
    }
  });

  // The library masks the userinfo of a URL nested in a path (`/redirect/http://u:pw@idp/`)
  // everywhere else: the request line showed it, as only a `;` made the path be read.
  it('masks the userinfo of a URL nested in the path, raw or encoded, keeping the rest', async () => {
    for (const [path, shown] of [
      ['/redirect/http://u:PW-s3cret@idp.example/x', '/redirect/http://[redacted]@idp.example/x'],
      ['/r/http%3A%2F%2Fu%3APW-s3cret%40idp%2F', '/r/http%3A%2F%2F[redacted]%40idp%2F'],
      ['/u/@alice', '/u/@alice'],
    ]) {
      const lines = await serve(
        'info',
        (ctx) => {
          ctx.body = { ok: true };
        },
        path,
      );
      expect(lines[0].path, path).to.equal(shown);
    }
  });
});
