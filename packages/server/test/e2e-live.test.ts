// The page follows a watched library live: a server whose folders are watched (FolderWatcher →
// app.requestSync, as `pixsearch serve` wires them), a page with results open, files landing,
// moving and leaving. Every wait is for something on the page, never a sleep.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FolderWatcher } from '@pixsearch/core/engine';
import { startServer, type RunningServer } from '../src/index.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { openLibrary, type TestLibrary } from './support/library.js';
import { drawTestImage } from '@pixsearch/core/testing';

let lib: TestLibrary;
let server: RunningServer;
let watcher: FolderWatcher;
let browser: TestBrowser;

beforeAll(async () => {
  lib = await openLibrary({ count: 12 });
  server = await startServer({ engine: lib.engine, port: 0 });
  const app = server.app;
  watcher = await FolderWatcher.start({ roots: [lib.root], exclude: [lib.dataDir], quietMs: 100, sync: () => app.requestSync('watch') });
  browser = await launchBrowser(() => server.url);
});

afterEach(async () => {
  expect(await browser.reset()).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await watcher?.close();
  await server?.close();
  await lib?.close();
});

describe('a watched library on the page', () => {
  it('updates the count and the open results as files land, move and leave', async () => {
    const page = await browser.open('/?q=photo&min=-1');
    const tiles = (n: number) => page.waitForFunction((count) => document.querySelectorAll('#grid .tile').length === count, n, { timeout: 60_000 });
    const count = (n: number) => page.waitForFunction((c) => document.getElementById('status-text')!.textContent === `${c} images`, n, { timeout: 60_000 });
    const n = lib.images.length;
    await tiles(n);
    // A folder of two photos moved in at once (one event, one sync).
    const outside = path.join(lib.dir, 'landed');
    await mkdir(outside);
    await writeFile(path.join(outside, 'new-1.png'), await drawTestImage(301, { width: 320, height: 240, format: 'png' }));
    await writeFile(path.join(outside, 'new-2.jpg'), await drawTestImage(302, { width: 240, height: 320, format: 'jpeg' }));
    await rename(outside, path.join(lib.root, 'landed'));
    await count(n + 2);
    await tiles(n + 2);
    expect(await page.locator('#grid .tile[aria-label^="landed/new-1.png"]').count()).toBe(1);
    expect(await page.locator('#toast').textContent()).toBe('Sync done: 2 added.');

    await rename(path.join(lib.root, 'landed'), path.join(lib.root, 'moved'));
    await page.waitForFunction(() => document.querySelector('#grid .tile[aria-label^="moved/new-1.png"]') !== null, undefined, { timeout: 60_000 });
    expect(await page.locator('#grid .tile').count()).toBe(n + 2);

    await rm(path.join(lib.root, 'moved'), { recursive: true });
    await count(n);
    await tiles(n);
  });
});
