import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, formPage } from '../helpers/browser.js';
import {
  type ComposedService,
  startComposedService,
  stopService,
} from '../helpers/composed-service.js';

const PREFIX = '/api';

interface PrefixProxy {
  url: string;
  /** Every path the browser asked for outside the prefix: each one a link the proxy cannot serve. */
  outside: string[];
  close(): Promise<void>;
}

/**
 * `location /api/ { proxy_pass http://svc/; }` in nginx's manner: the prefix is taken off, the
 * Host sent is the upstream's name (nginx's default), and a path outside the prefix is not the
 * service's (404 here, another application in real life). `stripBare` strips the prefix as it
 * is, as Traefik's StripPrefix does: `/api` itself is sent on as `/`.
 */
async function startPrefixProxy(target: string, stripBare = false): Promise<PrefixProxy> {
  const { hostname, port } = new URL(target);
  const outside: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const bare = stripBare && (url === PREFIX || url.startsWith(`${PREFIX}?`));
    if (!url.startsWith(`${PREFIX}/`) && !bare) {
      outside.push(url);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not under the prefix');
      return;
    }
    const upstream = request(
      {
        hostname,
        port,
        method: req.method,
        path: bare ? `/${url.slice(PREFIX.length)}` : url.slice(PREFIX.length),
        headers: { ...req.headers, host: 'svc' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    outside,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Each page a browser is sent to, as the proxy serves it, and a request its script makes. */
const PAGES: Array<{ path: string; loads?: string }> = [
  { path: '/predict' },
  { path: '/chat' },
  { path: '/carbon_intensity' },
  { path: '/carbon_intensity/history' },
  { path: '/dashboard', loads: '/dashboard/data' },
];

describe('the pages behind a proxy that serves them under a path prefix, in a real browser', function () {
  this.timeout(120_000);
  let service: ComposedService;
  let proxy: PrefixProxy;
  let browser: Browser;

  before(async () => {
    service = await startComposedService({});
    proxy = await startPrefixProxy(service.url);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await stopService(service);
  });

  // The pages named their links, forms, assets and the dashboard's data by root-absolute paths:
  // under /api/ each went to the proxy's root, another application's or nothing.
  for (const { path, loads } of PAGES) {
    it(`${PREFIX}${path}: every link, form, asset and request stays under ${PREFIX}/ and is served`, async () => {
      const { page, problems, close } = await formPage(browser);
      const asked: string[] = [];
      page.on('request', (r) => asked.push(r.url()));
      try {
        const loaded = loads
          ? page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(loads))
          : Promise.resolve(null);
        const answer = await page.goto(`${proxy.url}${PREFIX}${path}`);
        expect(answer?.status()).to.equal(200);
        const data = await loaded;
        if (data) expect(data.url()).to.have.string(`${proxy.url}${PREFIX}${loads}?`);
        // The browser's own resolution of each URL the page names: its base is the page's URL.
        const named = await page.evaluate(() =>
          [
            ...[...document.querySelectorAll<HTMLAnchorElement | HTMLLinkElement>('a, link')].map(
              (e) => e.href,
            ),
            ...[...document.querySelectorAll<HTMLScriptElement>('script[src]')].map((e) => e.src),
            ...[...document.querySelectorAll('form')].map((e) => e.action),
          ].filter((u) => !u.startsWith('data:')),
        );
        expect(named).to.not.be.empty;
        for (const url of [...named, ...asked]) {
          expect(url, `named by ${path}`).to.match(new RegExp(`^${proxy.url}${PREFIX}/`));
          const served = await fetch(url, { headers: { accept: 'text/html' } });
          await served.arrayBuffer();
          expect(served.status, `${url}, named by ${path}`).to.equal(200);
        }
        expect(proxy.outside).to.deep.equal([]);
        expect(problems).to.deep.equal([]);
      } finally {
        await close();
      }
    });
  }

  it(`${PREFIX}/predict: its form, sent, answers under ${PREFIX}/predict`, async () => {
    const { page, problems, close } = await formPage(browser);
    try {
      await page.goto(`${proxy.url}${PREFIX}/predict`);
      await page.locator('form input[name=activity]').fill('cycling to work');
      const [answered] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.locator('form [type=submit]').click(),
      ]);
      expect(answered.url()).to.equal(`${proxy.url}${PREFIX}/predict`);
      expect(answered.status()).to.equal(200);
      expect(proxy.outside).to.deep.equal([]);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  // PROXY_PREFIX (new on 2026-12-06): the prefix opened without its slash, as a stripping proxy
  // sends it on (`/`), leads to the dashboard under the prefix, which loads its assets and data.
  it(`${PREFIX} without its slash, PROXY_PREFIX=${PREFIX}: the dashboard under it, live`, async () => {
    const prefixed = await startComposedService({ PROXY_PREFIX: PREFIX });
    const stripping = await startPrefixProxy(prefixed.url, true);
    const { page, problems, close } = await formPage(browser);
    const answers: string[] = [];
    page.on('response', (r) => answers.push(`${r.status()} ${new URL(r.url()).pathname}`));
    try {
      const answer = await page.goto(`${stripping.url}${PREFIX}`);
      expect(answer?.status()).to.equal(200);
      expect(page.url()).to.equal(`${stripping.url}${PREFIX}/dashboard`);
      await page.waitForSelector('#status[data-state=live]');
      const assets = answers.filter((a) => a.includes('/dashboard/assets/'));
      expect(assets).to.have.length(5);
      for (const a of assets) expect(a).to.match(new RegExp(`^200 ${PREFIX}/dashboard/assets/`));
      expect(answers).to.include(`302 ${PREFIX}`);
      expect(answers.some((a) => a.startsWith(`200 ${PREFIX}/dashboard/data`))).to.equal(true);
      expect(stripping.outside).to.deep.equal([]);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
      await stripping.close();
      await stopService(prefixed);
    }
  });
});
