// End to end in Chromium: browsing like a photo app — the viewer (zoom, pan, info, download,
// copy path, folder link, swipe), selection (click, shift-click, keys → copy paths, zip, more
// like these) and the library panel, over a real server, engine and image folder.
// Screenshots go to <repo>/artifacts/screenshots/.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import yauzl from 'yauzl';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/index.js';
import { launchBrowser, shot, waitForTiles, type OpenOptions, type TestBrowser } from './support/browser.js';
import { openLibrary, type TestLibrary } from './support/library.js';
import { SearchEngine } from '@pixsearch/core/engine';
import { drawTestImage, ensureTinyBundle } from '@pixsearch/core/testing';

let lib: TestLibrary;
let server: RunningServer;
let browser: TestBrowser;
const PANORAMA = 'trips/panorama-big.tif';

beforeAll(async () => {
  lib = await openLibrary({ count: 30, sync: false });
  await writeFile(path.join(lib.root, PANORAMA), await drawTestImage(88, { width: 3000, height: 1200, format: 'tiff' }));
  await writeFile(path.join(lib.root, 'misc', 'damaged.jpg'), Buffer.from('this is not a JPEG'));
  await lib.engine.sync();
  server = await startServer({ engine: lib.engine, port: 0 });
  browser = await launchBrowser(() => server.url);
});

afterEach(async () => {
  expect(await browser.reset()).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await lib?.close();
});

const open = (url = '/', options: OpenOptions = {}): Promise<Page> => browser.open(url, options);

const isOpen = (page: Page) => page.evaluate(() => (document.getElementById('lightbox') as HTMLDialogElement).open);

async function openViewer(page: Page, index: number): Promise<void> {
  await page.locator(`#grid .tile[data-i="${index}"]`).click();
  await page.waitForFunction(() => (document.getElementById('lightbox') as HTMLDialogElement).open);
}

/** Index in the grid of the tile whose aria-label starts with `rel`. */
async function tileIndex(page: Page, rel: string): Promise<number> {
  return page.$$eval('#grid .tile', (tiles, r) => tiles.findIndex((t) => t.getAttribute('aria-label')!.startsWith(`${r},`)), rel);
}

describe('the viewer', () => {
  it('shows the details, zooms and pans, downloads, copies the path, and filters to the folder', async () => {
    const page = await open('/?q=meadow&min=-1', { context: { acceptDownloads: true, permissions: ['clipboard-read', 'clipboard-write'] } });
    await waitForTiles(page, 10);
    const i = await tileIndex(page, 'trips/2021/summer/' + lib.images.find((x) => x.rel.startsWith('trips/2021/summer/'))!.rel.split('/').pop());
    expect(i).toBeGreaterThanOrEqual(0);
    await openViewer(page, i);
    const rel = (await page.locator('#lb-img').getAttribute('alt'))!;
    const fixture = lib.images.find((x) => x.rel === rel)!;
    const abs = path.join(lib.root, rel);

    // Details: dimensions, bytes, format, folder link and the whole path, never cut.
    await page.waitForFunction(() => document.getElementById('lb-details')!.textContent!.includes('bytes'));
    const details = await page.locator('#lb-details').textContent();
    const size = (await stat(abs)).size;
    expect(details).toContain(`${fixture.width} × ${fixture.height} px`);
    expect(details).toContain(`${size.toLocaleString('en-US')} bytes`);
    expect(details).toContain(fixture.format.toUpperCase());
    expect(await page.locator('#lb-fullpath').textContent()).toBe(abs);
    const full = await page.locator('#lb-fullpath').evaluate((e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
    expect(full.scroll).toBeLessThanOrEqual(full.client);
    await shot(page, 'viewer-info.png');

    // Zoom: keys, buttons, wheel at a point, double-click; pan by dragging; Esc fits before it closes.
    const transform = () => page.$eval('#lb-img', (img) => (img as HTMLElement).style.transform);
    await page.keyboard.press('+');
    expect(await page.locator('#lb-zoom-level').textContent()).toBe('150%');
    await page.locator('#lb-zoom-fit').click();
    expect(await page.locator('#lb-zoom-level').textContent()).toBe('100%');
    expect(await transform()).toBe('');
    const box = (await page.locator('#lb-img').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.25);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(() => document.getElementById('lb-zoom-level')!.textContent !== '100%');
    expect(parseInt((await page.locator('#lb-zoom-level').textContent())!, 10)).toBeGreaterThan(150);
    expect(await transform()).toMatch(/^translate\(.+\) scale\(.+\)$/);
    const before = await transform();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 40, { steps: 4 });
    await page.mouse.up();
    expect(await transform()).not.toBe(before);
    await shot(page, 'viewer-zoomed.png');
    await page.keyboard.press('Escape');
    expect(await isOpen(page)).toBe(true);
    expect(await page.locator('#lb-zoom-level').textContent()).toBe('100%');
    await page.locator('#lb-img').dblclick();
    expect(await page.locator('#lb-zoom-level').textContent()).not.toBe('100%');
    await page.locator('#lb-img').dblclick();
    expect(await page.locator('#lb-zoom-level').textContent()).toBe('100%');

    // Download: the original, as an attachment, byte for byte.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#lb-download').click()]);
    expect(download.suggestedFilename()).toBe(path.basename(rel));
    expect((await readFile((await download.path())!)).equals(await readFile(abs))).toBe(true);

    // Copy path: the absolute path lands on the clipboard.
    await page.locator('#lb-copy').click();
    await page.waitForFunction(() => document.getElementById('lb-status')!.textContent!.includes('copied'));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(abs);

    // The folder link filters the search to that folder.
    await page.locator('#lb-details .lb-folder').click();
    expect(await isOpen(page)).toBe(false);
    await page.waitForFunction(() => new URL(location.href).searchParams.get('path') === 'trips/2021/summer/');
    await waitForTiles(page, 2);
    const labels = await page.$$eval('#grid .tile', (ts) => ts.map((t) => t.getAttribute('aria-label')!));
    expect(labels.length).toBe(lib.images.filter((x) => x.rel.startsWith('trips/2021/summer/')).length);
    for (const l of labels) expect(l.startsWith('trips/2021/summer/')).toBe(true);
    expect(await page.locator('#filter-chips').textContent()).toContain('in trips/2021/summer');
    await page.locator('#filter-chips .chip-clear').click();
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('path'));
  });

  it('shows a large TIFF through the display rendition and opens the details of any format', async () => {
    const page = await open('/?q=panorama&min=-1');
    await waitForTiles(page, 10);
    const i = await tileIndex(page, PANORAMA);
    await openViewer(page, i);
    await page.waitForFunction(() => /\/display$/.test(document.getElementById('lb-img')!.getAttribute('src')!));
    await page.waitForFunction(() => (document.getElementById('lb-img') as HTMLImageElement).complete);
    const natural = await page.$eval('#lb-img', (img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    expect(natural).toEqual([2048, 819]);
    expect(await page.locator('#lb-details').textContent()).toContain('3000 × 1200 px');
    await shot(page, 'viewer-tiff.png');
  });

  it('on a phone: prev/next stay visible, a swipe moves, the details fold under the image', async () => {
    const page = await open('/?q=forest&min=-1', { width: 390, height: 844, context: { hasTouch: true, isMobile: true } });
    await waitForTiles(page, 6);
    await page.locator('#grid .tile[data-i="0"]').tap();
    await page.waitForFunction(() => (document.getElementById('lightbox') as HTMLDialogElement).open);
    expect(await page.locator('#lb-next').isVisible()).toBe(true);
    expect(await page.locator('#lb-prev').isVisible()).toBe(true);
    expect(await page.locator('#lb-counter').textContent()).toMatch(/^1 of /);
    await shot(page, 'viewer-phone.png');
    // A swipe to the left shows the next image (pointer events, as a finger sends them).
    const box = (await page.locator('#lb-stage').boundingBox())!;
    const y = box.y + box.height / 2;
    await page.locator('#lb-stage').dispatchEvent('pointerdown', { pointerId: 7, pointerType: 'touch', clientX: box.x + 300, clientY: y, isPrimary: true, button: 0 });
    for (const x of [260, 200, 140, 90]) await page.locator('#lb-stage').dispatchEvent('pointermove', { pointerId: 7, pointerType: 'touch', clientX: box.x + x, clientY: y, isPrimary: true });
    await page.locator('#lb-stage').dispatchEvent('pointerup', { pointerId: 7, pointerType: 'touch', clientX: box.x + 90, clientY: y, isPrimary: true, button: 0 });
    expect(await page.locator('#lb-counter').textContent()).toMatch(/^2 of /);
    await page.locator('#lb-prev').tap();
    expect(await page.locator('#lb-counter').textContent()).toMatch(/^1 of /);
    // Pinch: two fingers moving apart zoom in around their midpoint.
    const stage = page.locator('#lb-stage');
    const cx = box.x + box.width / 2;
    const touch = (type: string, id: number, x: number) => stage.dispatchEvent(type, { pointerId: id, pointerType: 'touch', clientX: x, clientY: y, isPrimary: id === 1, button: 0 });
    await touch('pointerdown', 1, cx - 40);
    await touch('pointerdown', 2, cx + 40);
    for (const d of [60, 90, 120]) {
      await touch('pointermove', 1, cx - d);
      await touch('pointermove', 2, cx + d);
    }
    await touch('pointerup', 1, cx - 120);
    await touch('pointerup', 2, cx + 120);
    expect(await page.locator('#lb-zoom-level').textContent()).toBe('300%');
    expect(await page.locator('#lb-counter').textContent()).toMatch(/^1 of /);
    await shot(page, 'viewer-phone-pinched.png');
    await page.locator('#lb-zoom-fit').tap();
    // The details open below the image; the path wraps instead of being cut.
    await page.locator('#lb-info-toggle').tap();
    expect(await page.locator('#lb-info').isVisible()).toBe(true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const full = await page.locator('#lb-fullpath').evaluate((e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
    expect(full.scroll).toBeLessThanOrEqual(full.client);
    await shot(page, 'viewer-phone-info.png');
  });
});

/** Entry names of a zip file. */
function zipEntries(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: false }, (err, zip) => {
      if (err || !zip) return reject(err);
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => names.push(e.fileName));
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
    });
  });
}

const selectedCount = (page: Page) => page.locator('#grid .tile.selected').count();

describe('selection', () => {
  it('selects with the check, Shift-click, Ctrl-click and keys; copies paths; downloads a zip', async () => {
    const page = await open('/?q=harbour&min=-1', { context: { acceptDownloads: true, permissions: ['clipboard-read', 'clipboard-write'] } });
    await waitForTiles(page, 10);
    expect(await page.locator('#selbar').isHidden()).toBe(true);
    const tile = (i: number) => page.locator(`#grid .tile[data-i="${i}"]`);
    const rel = async (i: number) => (await tile(i).getAttribute('aria-label'))!.replace(/, score .*$/, '');

    // The check on a tile selects it (and does not open the viewer).
    await tile(0).hover();
    await tile(0).locator('.tile-check').click();
    expect(await isOpen(page)).toBe(false);
    expect(await selectedCount(page)).toBe(1);
    expect(await page.locator('#sel-count').textContent()).toMatch(/^1 selected/);
    expect(await tile(0).getAttribute('aria-label')).toMatch(/, selected$/);
    // Shift-click selects the range; Ctrl-click toggles one; a plain click toggles while selecting.
    await tile(3).click({ modifiers: ['Shift'] });
    expect(await selectedCount(page)).toBe(4);
    await tile(1).click({ modifiers: ['Control'] });
    expect(await selectedCount(page)).toBe(3);
    await tile(6).click();
    expect(await selectedCount(page)).toBe(4);
    expect(await isOpen(page)).toBe(false);
    await shot(page, 'selection.png');

    // Keys: Space toggles the focused tile, Shift+→ extends, Enter still opens the viewer.
    await tile(8).focus();
    await page.keyboard.press('Space');
    expect(await selectedCount(page)).toBe(5);
    await page.keyboard.press('Shift+ArrowRight');
    expect(await selectedCount(page)).toBe(6);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.i)).toBe('9');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.getElementById('lightbox') as HTMLDialogElement).open);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !(document.getElementById('lightbox') as HTMLDialogElement).open);
    expect(await selectedCount(page)).toBe(6);

    const picked = [0, 2, 3, 6, 8, 9];
    const rels = await Promise.all(picked.map(rel));
    // Copy paths: absolute, one per line, in the order they were selected.
    await page.locator('#sel-copy').click();
    await page.waitForFunction(() => /6 paths copied/.test(document.getElementById('toast')!.textContent!));
    const clip = (await page.evaluate(() => navigator.clipboard.readText())).split('\n');
    expect(clip.sort()).toEqual(rels.map((r) => path.join(lib.root, r)).sort());

    // Download zip: the browser streams /api/zip to disk; the archive holds exactly the selection.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#sel-zip').click()]);
    expect(download.suggestedFilename()).toBe('pixsearch-6-images.zip');
    expect((await zipEntries((await download.path())!)).sort()).toEqual([...rels].sort());

    // Esc clears; the bar goes away.
    await page.locator('body').press('Escape');
    expect(await selectedCount(page)).toBe(0);
    expect(await page.locator('#selbar').isHidden()).toBe(true);

    // Ctrl+A selects every loaded result.
    await tile(0).focus();
    await page.keyboard.press('Control+a');
    expect(await selectedCount(page)).toBe(await page.locator('#grid .tile').count());
    await page.locator('#sel-clear').click();
    expect(await selectedCount(page)).toBe(0);
  });

  it('on a phone: the checks show, the bar fits', async () => {
    const page = await open('/?q=forest&min=-1', { width: 390, height: 844, context: { hasTouch: true, isMobile: true } });
    await waitForTiles(page, 6);
    await page.locator('#grid .tile[data-i="1"] .tile-check').tap();
    await page.locator('#grid .tile[data-i="2"]').tap();
    expect(await selectedCount(page)).toBe(2);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const bar = (await page.locator('#selbar').boundingBox())!;
    expect(bar.width).toBeLessThanOrEqual(390);
    await shot(page, 'selection-phone.png');
  });
});

describe('library context', () => {
  it('lists the folders, counts, skipped files with reasons, model and backend', async () => {
    const page = await open('/');
    await page.locator('#library-open').click();
    await page.waitForFunction(() => document.getElementById('library-body')!.textContent!.includes('Model and index'));
    const text = (await page.locator('#library-body').textContent())!;
    expect(text).toContain(lib.root);
    const status = await lib.engine.stats();
    expect(text).toContain(`${status.images.indexed}indexed`);
    expect(text).toContain(status.model);
    expect(text).toContain(status.backend);
    expect(text).toMatch(/Skipped files \(1\)/);
    await page.locator('#library-body details summary').first().click();
    expect(await page.locator('#library-body details').first().textContent()).toContain('misc/damaged.jpg');
    await shot(page, 'library-panel.png');
    await page.keyboard.press('Escape');
    expect(await page.evaluate(() => (document.getElementById('library') as HTMLDialogElement).open)).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('library-open');
  });

  it('an empty library names its folder, says how to add one, and offers no weaker matches', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-empty-'));
    const root = path.join(dir, 'photos');
    await mkdir(root);
    const engine = await SearchEngine.open({ dataDir: path.join(dir, 'data'), roots: [root], model: await ensureTinyBundle(), threads: 1 });
    await engine.sync();
    const empty = await startServer({ engine, port: 0 });
    try {
      const page = await open('/', { base: empty.url });
      const text = (await page.locator('#message').textContent())!;
      expect(text).toContain('Your library is empty');
      expect(text).toContain(root);
      expect(text).toContain('pixsearch index');
      await shot(page, 'empty-library.png');
      await page.goto(`${empty.url}/?q=beach`);
      await page.waitForSelector('.empty h2');
      expect(await page.locator('.empty h2').textContent()).toBe('The library is empty');
      expect(await page.getByRole('button', { name: 'Show weaker matches' }).count()).toBe(0);
      await shot(page, 'empty-library-query.png');
    } finally {
      await empty.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
