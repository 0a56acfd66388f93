import type { Browser, Page } from 'playwright-core';

/** Debian's chromium, as tools/test-setup.sh installs it, run headless for the browser tests. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export interface Watched {
  page: Page;
  /** What went wrong in the page: here its uncaught errors; a caller adds what it watches. */
  problems: string[];
  /** Closes the page's context. */
  close(): Promise<void>;
}

/** A fresh page in a context of its own, each uncaught error of its scripts in `problems`. */
export async function watchedPage(
  browser: Browser,
  viewport = { width: 1280, height: 720 },
): Promise<Watched> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { page, problems, close: () => context.close() };
}

/**
 * A fresh page whose console errors and CSP violations are added to its problems too, but for a
 * resource refused with a 400, where `refusals` is set: Chromium reports each as one that failed
 * to load, and a test that sends a bad form asks for it.
 */
export async function formPage(browser: Browser, refusals = false): Promise<Watched> {
  const watched = await watchedPage(browser);
  watched.page.on('console', (msg) => {
    const refused = refusals && /status of 400 \(Bad Request\)/.test(msg.text());
    if (msg.type() === 'error' && !refused) watched.problems.push(`console: ${msg.text()}`);
  });
  await reportPolicyViolations(watched.page, watched.problems);
  return watched;
}

/** Adds each Content-Security-Policy violation the page reports to `problems`. */
export async function reportPolicyViolations(page: Page, problems: string[]): Promise<void> {
  await page.exposeFunction('reportPolicyViolation', (text: string) =>
    problems.push(`CSP violation: ${text}`),
  );
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { reportPolicyViolation(text: string): void })
        .reportPolicyViolation;
      report(`${e.effectiveDirective} blocked ${e.blockedURI}`);
    });
  });
}
