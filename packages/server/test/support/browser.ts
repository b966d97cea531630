/**
 * A real headless Chromium (Debian's /usr/bin/chromium through playwright-core) for the
 * end-to-end suites: one browser per suite, a fresh context per page, page errors and CSP
 * violations collected so each test can assert there were none.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { SCREENSHOT_DIR } from './library.js';

export interface OpenOptions {
  colorScheme?: 'light' | 'dark';
  width?: number;
  height?: number;
  /** Server base URL (default: the suite's). */
  base?: string;
  /** Extra context options (touch, permissions, downloads). */
  context?: BrowserContextOptions;
}

export interface TestBrowser {
  /** Opens `url` (relative to `base`) in a new context. */
  open(url?: string, options?: OpenOptions): Promise<Page>;
  /** Closes the contexts opened since the last call; returns the problems seen meanwhile. */
  reset(): Promise<string[]>;
  close(): Promise<void>;
}

export async function launchBrowser(base: () => string): Promise<TestBrowser> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const contexts: BrowserContext[] = [];
  let problems: string[] = [];
  return {
    async open(url = '/', options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
        colorScheme: options.colorScheme ?? 'light',
        deviceScaleFactor: 1,
        ...options.context,
      });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
      });
      await page.goto(`${options.base ?? base()}${url}`);
      return page;
    },
    async reset() {
      for (const c of contexts.splice(0)) await c.close();
      const seen = problems;
      problems = [];
      return seen;
    },
    close: () => browser.close(),
  };
}

/** Saves a screenshot under artifacts/screenshots/. */
export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOT_DIR, name) });

/** Waits until the grid shows `n` tiles whose thumbnails have loaded. */
export async function waitForTiles(page: Page, n: number): Promise<void> {
  await page.waitForFunction((count) => document.querySelectorAll('#grid .tile.loaded').length >= count, n, { timeout: 30_000 });
}
