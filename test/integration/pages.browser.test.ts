import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, formPage } from '../helpers/browser.js';
import {
  type ComposedService,
  startComposedService,
  stopService,
} from '../helpers/composed-service.js';

/** An activity in Arabic that starts with a number: "10 hours of driving". */
const ARABIC = '10 ساعات قيادة';
const ARABIC_WORD = 'ساعات';

/** An OpenAI-compatible upstream that answers each chat with its last message, as sent. */
async function startEcho(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { messages } = JSON.parse(Buffer.concat(chunks).toString()) as {
        messages: Array<{ content: string }>;
      };
      const content = messages.at(-1)?.content ?? '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'echo',
          object: 'chat.completion',
          created: 0,
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The service as src/service.ts composes it, its LLM the echo above. */
function startService(upstream: { baseUrl: string }): Promise<ComposedService> {
  return startComposedService({ LLM_BASE_URL: upstream.baseUrl });
}

interface Box {
  left: number;
  right: number;
}

/** Where the browser drew `text` (its first occurrence in a text node under `selector`). */
function boxOf(page: Page, selector: string, text: string): Promise<Box> {
  return page.evaluate(
    ([sel, wanted]) => {
      const root = document.querySelector(sel);
      if (!root) throw new Error(`no ${sel}`);
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const at = (n as Text).data.indexOf(wanted);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(n, at);
        range.setEnd(n, at + wanted.length);
        const { left, right } = range.getBoundingClientRect();
        return { left, right };
      }
      throw new Error(`no "${wanted}" in ${sel}`);
    },
    [selector, text] as const,
  );
}

/** Asserts that the browser drew `texts`, found under `selector`, from left to right. */
async function expectLeftToRight(page: Page, selector: string, texts: string[]): Promise<void> {
  const boxes = await Promise.all(texts.map((t) => boxOf(page, selector, t)));
  for (let i = 1; i < boxes.length; i++) {
    expect(boxes[i].left, `"${texts[i]}" right of "${texts[i - 1]}"`).to.be.at.least(
      boxes[i - 1].right - 0.5,
    );
  }
}

/** Sends the page's form as it stands and waits for the page it answers with. */
async function submit(page: Page, path: string): Promise<number> {
  const [answered] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === path),
    page.locator('form [type=submit]').click(),
  ]);
  await page.waitForLoadState('load');
  return answered.status();
}

/** Elements with a style attribute: the policy allows no inline style but the page's own. */
function inlineStyles(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelectorAll('[style]').length);
}

describe('the pages with right-to-left text and bidi controls, in a real browser', function () {
  this.timeout(120_000);
  let upstream: Awaited<ReturnType<typeof startEcho>>;
  let service: ComposedService;
  let browser: Browser;

  before(async () => {
    upstream = await startEcho();
    service = await startService(upstream);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await stopService(service);
    await upstream?.close();
  });

  // Unisolated, the number of an Arabic activity that starts with one was drawn at its left,
  // where a right-to-left reader reads its end.
  it('/predict draws an Arabic activity right to left, in its field and its quote, and takes the form back', async () => {
    const { page, problems, close } = await formPage(browser);
    try {
      await page.goto(`${service.url}/predict`);
      const field = page.locator('form input[name=activity]');
      await field.fill(ARABIC);
      expect(await submit(page, '/predict')).to.equal(200);
      const quote = 'main section p';
      await expectLeftToRight(page, quote, [ARABIC_WORD, '10', '”', ' is ', 'carbon']);
      expect(await field.inputValue()).to.equal(ARABIC);
      expect(await field.evaluate((el) => getComputedStyle(el).direction)).to.equal('rtl');
      // The page's own form, sent again as it came back.
      expect(await submit(page, '/predict')).to.equal(200);
      expect(await field.inputValue()).to.equal(ARABIC);
      expect(await inlineStyles(page)).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  // A PDI that closes nothing ended the quote's isolation, and the override after it reversed
  // the rest of the sentence; an isolate left open took the sentence in. A paragraph separator
  // (U+2029, NEL) ended the quote's paragraph and its isolation with it.
  for (const [what, activity] of [
    ['a stray PDI, then an override', 'driving\u2069\u202e 10 hours'],
    ['an isolate left open', `\u2067${ARABIC}`],
    ['an override and marks', `driving \u202e10\u200f hours\u200e`],
    ['a paragraph separator, then an override', 'driving\u2029\u202e 10 hours'],
    ['a next line, then an override', 'driving\u0085\u202e 10 hours'],
  ] as const) {
    it(`/predict keeps the sentence around the quote in its order (${what}), the field as sent`, async () => {
      const { page, problems, close } = await formPage(browser);
      try {
        await page.goto(`${service.url}/predict`);
        const field = page.locator('form input[name=activity]');
        await field.fill(activity);
        expect(await submit(page, '/predict')).to.equal(200);
        await expectLeftToRight(page, 'main section p', ['“', '”', ' is ', 'carbon', 'intensity']);
        expect(await field.inputValue()).to.equal(activity);
        expect(await submit(page, '/predict')).to.equal(200);
        expect(problems).to.deep.equal([]);
      } finally {
        await close();
      }
    });
  }

  // maxlength counts UTF-16 units: 300 bicycles (600 units) were cut to 250 as they were typed,
  // though the server takes 500 characters, and counted as it counts, the page sent no more.
  it('/predict takes in its field what the server takes: 500 characters, an emoji one', async () => {
    const { page, problems, close } = await formPage(browser);
    try {
      await page.goto(`${service.url}/predict`);
      const field = page.locator('form input[name=activity]');
      const bicycles = `cycling ${'🚲'.repeat(300)}`;
      await field.fill(bicycles);
      expect(await field.inputValue()).to.equal(bicycles);
      expect(await submit(page, '/predict')).to.equal(200);
      expect(await field.inputValue()).to.equal(bicycles);
      // Spaces around it are trimmed by the server, and not counted here either.
      await field.fill(`  ${'a'.repeat(500)}  `);
      expect(await field.evaluate((el: HTMLInputElement) => el.validity.valid)).to.equal(true);
      await field.fill(`${'a'.repeat(499)}🚲🚲`);
      const refused = await field.evaluate((el: HTMLInputElement) => el.validity.patternMismatch);
      expect(refused).to.equal(true);
      // The browser's bubble shows the title under its own "match the requested format".
      expect(await field.getAttribute('title')).to.equal('at most 500 characters');
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  /** Sends `message` with /chat's form; the page answered, its status. */
  async function chat(page: Page, message: string): Promise<number> {
    await page.goto(`${service.url}/chat`);
    await page.locator('form textarea[name=message]').fill(message);
    return submit(page, '/chat');
  }

  const direction = (page: Page, selector: string) =>
    page.locator(selector).evaluate((el) => getComputedStyle(el).direction);

  // The message box and the answer were drawn left to right whatever their text: an Arabic one
  // that starts with a number had it at the wrong end.
  it('/chat draws an Arabic message and answer right to left', async () => {
    const { page, problems, close } = await formPage(browser);
    try {
      expect(await chat(page, ARABIC)).to.equal(200);
      expect(await page.locator('form textarea[name=message]').inputValue()).to.equal(ARABIC);
      expect(await direction(page, 'form textarea[name=message]')).to.equal('rtl');
      expect(await direction(page, 'section h2 + p.pre')).to.equal('rtl');
      await expectLeftToRight(page, 'section h2 + p.pre', [ARABIC_WORD, '10']);
      expect(await inlineStyles(page)).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  // Each line of an answer takes its own direction: one in English, the next in Arabic.
  it('/chat draws each line of a mixed answer in its own direction', async () => {
    const { page, problems, close } = await formPage(browser);
    try {
      expect(await chat(page, `Driving, in Arabic:\n${ARABIC}`)).to.equal(200);
      await expectLeftToRight(page, 'section h2 + p.pre', ['Driving', 'Arabic']);
      await expectLeftToRight(page, 'section h2 + p.pre', [ARABIC_WORD, '10']);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  // The parser drops a newline right after <textarea>: a message that began with one came back
  // without it.
  it('/chat gives the message box back as sent, a first empty line included', async () => {
    const { page, problems, close } = await formPage(browser);
    try {
      const message = '\nfirst line empty';
      expect(await chat(page, message)).to.equal(200);
      expect(await page.locator('form textarea[name=message]').inputValue()).to.equal(message);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  // Controls in the answer end with its block: the line under it stays in its order.
  it('/chat keeps what follows an answer with bidi controls in its order', async () => {
    const { page, problems, close } = await formPage(browser);
    try {
      expect(await chat(page, 'a\u2069\u202e b c \u2067d')).to.equal(200);
      await expectLeftToRight(page, 'section h2 + p.pre + p', [' prompt + ', ' completion tokens']);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  // An alert quotes what was sent in a sentence of its own: unisolated, the number of an Arabic
  // zone (a link's) or model (a crafted form's) was drawn at its wrong end.
  it('/carbon_intensity draws an Arabic zone its alert quotes right to left', async () => {
    const { page, problems, close } = await formPage(browser, true);
    try {
      const res = await page.goto(
        `${service.url}/carbon_intensity?zone=${encodeURIComponent(ARABIC)}`,
      );
      expect(res?.status()).to.equal(400);
      await expectLeftToRight(page, '[role=alert]', [
        'invalid zone',
        ARABIC_WORD,
        '10',
        ': expected',
      ]);
      expect(await page.locator('[role=alert]').textContent()).to.include(`"${ARABIC}"`);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  it('/chat draws an Arabic model its alert quotes right to left', async () => {
    const { page, problems, close } = await formPage(browser, true);
    try {
      await page.goto(`${service.url}/chat`);
      await page.locator('form textarea[name=message]').fill('hello');
      await page
        .locator('form select[name=model] option:checked')
        .evaluate((option: HTMLOptionElement, model) => {
          option.value = model;
        }, ARABIC);
      expect(await submit(page, '/chat')).to.equal(400);
      await expectLeftToRight(page, '[role=alert]', ['unknown model', ARABIC_WORD, '10']);
      expect(problems).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  // The LLM down: the form comes back with what was sent and one plain line saying why, never
  // the LLM's address or the client's own words ("Connection error.").
  it('/chat says plainly that the LLM cannot be reached, and keeps the message', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    const down = await startComposedService({ LLM_BASE_URL: `http://127.0.0.1:${port}/v1` });
    const { page, problems, close } = await formPage(browser);
    try {
      await page.goto(`${down.url}/chat`);
      await page.locator('form textarea[name=message]').fill('hello');
      await page.locator('form select[name=model]').selectOption('openai/gpt-4o');
      expect(await submit(page, '/chat')).to.equal(502);
      const alert = await page.locator('[role=alert]').textContent();
      expect(alert).to.equal('Error: could not reach the LLM service');
      expect(await page.locator('main').textContent()).to.not.include(String(port));
      expect(await page.locator('section h2', { hasText: 'Answer' }).count()).to.equal(0);
      expect(await page.locator('form textarea[name=message]').inputValue()).to.equal('hello');
      expect(await page.locator('form select[name=model]').inputValue()).to.equal('openai/gpt-4o');
      // Chromium reports a page answered with an error status as a resource that failed to load.
      expect(problems).to.deep.equal([
        'console: Failed to load resource: the server responded with a status of 502 (Bad Gateway)',
      ]);
    } finally {
      await close();
      await stopService(down);
    }
  });
});
