// End to end in Chromium over a small photo library with EXIF (dates, cameras, GPS) and planted
// copies: the timeline, filters, sort, exact totals, "more like these", the duplicates view and
// the viewer's metadata, at desktop and phone sizes. Screenshots go to artifacts/screenshots/.
import { access, copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '@pixsearch/index-faiss';
import { SearchEngine } from '@pixsearch/core/engine';
import { drawTestImage, ensureTinyBundle } from '@pixsearch/core/testing';
import { startServer, type RunningServer } from '../src/index.js';
import { launchBrowser, shot, waitForTiles, type OpenOptions, type TestBrowser } from './support/browser.js';

interface Photo {
  rel: string;
  i: number;
  camera?: [string, string];
  date?: string;
  gps?: boolean;
}

const PHOTOS: Photo[] = [
  { rel: 'trips/2023/beach.jpg', i: 1, camera: ['FUJIFILM', 'X-T4'], date: '2023:07:14 10:00:00', gps: true },
  { rel: 'trips/2023/dunes.jpg', i: 2, camera: ['FUJIFILM', 'X-T4'], date: '2023:07:20 18:30:00' },
  { rel: 'trips/2023/harbour.jpg', i: 6, camera: ['FUJIFILM', 'X-T4'], date: '2023:08:02 08:15:00', gps: true },
  { rel: 'trips/2022/snow.jpg', i: 3, camera: ['Canon', 'Canon EOS R5'], date: '2022:12:24 12:00:00' },
  { rel: 'trips/2022/forest.jpg', i: 7, camera: ['Canon', 'Canon EOS R5'], date: '2022:10:02 15:40:00' },
  { rel: 'home/cat.jpg', i: 4, camera: ['Apple', 'iPhone 12'], date: '2021:03:01 09:00:00', gps: true },
  { rel: 'home/garden.jpg', i: 8, camera: ['Apple', 'iPhone 12'], date: '2021:05:09 17:20:00' },
  { rel: 'home/dog.png', i: 5 },
];

let dir: string;
let root: string;
let engine: SearchEngine;
let server: RunningServer;
let browser: TestBrowser;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-photos-'));
  root = path.join(dir, 'photos');
  for (const p of PHOTOS) {
    const file = path.join(root, p.rel);
    await mkdir(path.dirname(file), { recursive: true });
    const png = await drawTestImage(p.i, { width: 720, height: 480, format: 'png' });
    if (!p.date) {
      await writeFile(file, png);
      await utimes(file, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
      continue;
    }
    const exif: Record<string, Record<string, string>> = {
      IFD0: p.camera ? { Make: p.camera[0], Model: p.camera[1] } : {},
      IFD2: { DateTimeOriginal: p.date },
      IFD3: p.gps ? { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 3/1' } : {},
    };
    await writeFile(file, await sharp(png).jpeg({ quality: 90 }).withExif(exif).toBuffer());
  }
  // Planted duplicates: an exact copy, and a resized re-encode of another photo.
  await mkdir(path.join(root, 'backup'), { recursive: true });
  await copyFile(path.join(root, 'home/cat.jpg'), path.join(root, 'backup/cat-copy.jpg'));
  await writeFile(path.join(root, 'backup/snow-small.jpg'), await sharp(path.join(root, 'trips/2022/snow.jpg')).resize(360).jpeg({ quality: 70 }).toBuffer());
  // (The re-encode lost its EXIF: its file date stands in.)
  await utimes(path.join(root, 'backup/snow-small.jpg'), new Date('2020-06-01T00:00:00Z'), new Date('2020-06-01T00:00:00Z'));
  engine = await SearchEngine.open({ dataDir: path.join(dir, 'data'), roots: [root], model: await ensureTinyBundle(), threads: 1, batchSize: 8 });
  await engine.sync();
  server = await startServer({ engine, port: 0 });
  browser = await launchBrowser(() => server.url);
});

afterEach(async () => {
  expect(await browser.reset()).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

const open = (url = '/', options: OpenOptions = {}): Promise<Page> => browser.open(url, options);
const TOTAL = PHOTOS.length + 2;

const tilePaths = (page: Page) => page.$$eval('#grid .tile', (ts) => ts.map((t) => (t.querySelector('img') as HTMLImageElement).alt));

describe('a photo library in the browser', () => {
  it('opens on the timeline, newest first, with the real count and an end marker', async () => {
    const page = await open('/');
    await waitForTiles(page, TOTAL);
    expect(await page.locator('.welcome h1').textContent()).toContain(`Search ${TOTAL} images`);
    const paths = await tilePaths(page);
    expect(paths.slice(0, 3)).toEqual(['trips/2023/harbour.jpg', 'trips/2023/dunes.jpg', 'trips/2023/beach.jpg']);
    expect(await page.locator('#grid .tile').first().locator('.score').textContent()).toBe('2 Aug 2023');
    expect(await page.locator('#result-count').textContent()).toBe(`${TOTAL} photos`);
    expect(await page.locator('#end-marker').textContent()).toBe(`The end · ${TOTAL} photos`);
    expect(await page.locator('#sort').inputValue()).toBe('date-desc');
    await shot(page, 'timeline.png');
    // Oldest first.
    await page.locator('#sort').selectOption('date-asc');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('sort') === 'date-asc');
    await page.waitForFunction(() => (document.querySelector('#grid .tile img') as HTMLImageElement | null)?.alt === 'home/dog.png');

    const phone = await open('/', { width: 390, height: 844 });
    await waitForTiles(phone, 6);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(phone, 'timeline-phone.png');
    // The toolbar stays reachable while scrolling: right under the top bar.
    await phone.evaluate(() => window.scrollTo(0, 700));
    await phone.waitForFunction(() => window.scrollY > 300);
    const bar = (await phone.locator('#toolbar').boundingBox())!;
    const top = (await phone.locator('.topbar').boundingBox())!;
    expect(Math.abs(bar.y - (top.y + top.height))).toBeLessThanOrEqual(1);
    await shot(phone, 'timeline-phone-scrolled.png');
  });

  it('filters by camera, date range, folder, format and location from the panel; chips undo them', async () => {
    const page = await open('/');
    await waitForTiles(page, TOTAL);
    await page.locator('#filters-toggle').click();
    await page.waitForFunction(() => document.querySelectorAll('#filter-panel select[name=camera] option').length > 1);
    await page.locator('#filter-panel select[name=camera]').selectOption('FUJIFILM X-T4');
    await page.waitForFunction(() => document.getElementById('result-count')!.textContent === '3 photos');
    expect((await tilePaths(page)).sort()).toEqual(['trips/2023/beach.jpg', 'trips/2023/dunes.jpg', 'trips/2023/harbour.jpg']);
    expect(new URL(page.url()).searchParams.get('camera')).toBe('FUJIFILM X-T4');
    await page.locator('#filter-panel input[name=from]').fill('2023-07-15');
    await page.locator('#filter-panel input[name=from]').dispatchEvent('change');
    await page.waitForFunction(() => document.getElementById('result-count')!.textContent === '2 photos');
    expect(await page.locator('#filter-chips').textContent()).toContain('from 2023-07-15');
    await shot(page, 'filters.png');
    // A text query keeps the filters; the count is the exact total.
    await page.goto(`${page.url()}&q=sunny&min=-1`);
    await page.waitForFunction(() => document.getElementById('result-count')!.textContent === '2 results');
    expect((await tilePaths(page)).sort()).toEqual(['trips/2023/dunes.jpg', 'trips/2023/harbour.jpg']);
    await page.waitForFunction(() => document.getElementById('end-marker')!.textContent === 'End of results · 2 images');
    // Chips remove filters.
    for (let n = await page.locator('#filter-chips .chip-clear').count(); n > 0; n--) await page.locator('#filter-chips .chip-clear').first().click();
    await page.waitForFunction((t) => document.getElementById('result-count')!.textContent === `${t} results`, TOTAL);

    // Folder picker (absolute folders from the facets), format and location.
    await page.goto(`${server.url}/`);
    await page.locator('#filters-toggle').click();
    await page.waitForFunction(() => document.querySelectorAll('#filter-panel select[name=path] option').length > 1);
    await page.locator('#filter-panel select[name=path]').selectOption(`${path.join(root, 'home')}/`);
    await page.waitForFunction(() => document.getElementById('result-count')!.textContent === '3 photos');
    await page.locator('#filter-panel select[name=format]').selectOption('png');
    await page.waitForFunction(() => document.getElementById('result-count')!.textContent === '1 photo');
    await page.locator('#filters-clear').click();
    await page.locator('#filter-panel select[name=hasLocation]').selectOption('true');
    await page.waitForFunction(() => document.getElementById('result-count')!.textContent === '4 photos');
    expect((await tilePaths(page)).sort()).toEqual(['backup/cat-copy.jpg', 'home/cat.jpg', 'trips/2023/beach.jpg', 'trips/2023/harbour.jpg']);

    const dark = await open('/?camera=FUJIFILM', { colorScheme: 'dark' });
    await waitForTiles(dark, 3);
    await dark.locator('#filters-toggle').click();
    await dark.waitForFunction(() => document.querySelectorAll('#filter-panel select[name=camera] option').length > 1);
    await shot(dark, 'filters-dark.png');

    const phone = await open('/?camera=Canon', { width: 390, height: 844 });
    await waitForTiles(phone, 2);
    await phone.locator('#filters-toggle').click();
    await phone.waitForFunction(() => document.querySelectorAll('#filter-panel select[name=camera] option').length > 1);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(phone, 'filters-phone.png');
  });

  it('sorts a text query by date, and searches "more like these" from a selection', async () => {
    const page = await open('/?q=photo&min=-1&sort=date-desc');
    await waitForTiles(page, TOTAL);
    const paths = await tilePaths(page);
    expect(paths.slice(0, 2)).toEqual(['trips/2023/harbour.jpg', 'trips/2023/dunes.jpg']);
    expect(await page.locator('#sort').inputValue()).toBe('date-desc');

    await page.locator('#grid .tile[data-i="0"] .tile-check').click();
    await page.locator('#grid .tile[data-i="1"]').click();
    await page.locator('#sel-like').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.has('like'));
    await waitForTiles(page, 3);
    expect(await page.locator('#query-chip').textContent()).toContain('More like2 images');
    const after = await tilePaths(page);
    expect(after).not.toContain('trips/2023/harbour.jpg');
    expect(after).not.toContain('trips/2023/dunes.jpg');
    expect(after.length).toBe(TOTAL - 2);
    await shot(page, 'more-like-these.png');
  });

  it('shows the date taken, camera and location in the viewer', async () => {
    const page = await open('/?camera=FUJIFILM&hasLocation=true');
    await waitForTiles(page, 2);
    await page.locator('#grid .tile[data-i="0"]').click();
    await page.waitForFunction(() => document.getElementById('lb-details')!.textContent!.includes('Camera'));
    const details = await page.locator('#lb-details').textContent();
    expect(details).toContain('Taken2 Aug 2023, 08:15');
    expect(details).toContain('CameraFUJIFILM X-T4');
    expect(details).toContain('Location48.85667, 2.35083');
    await shot(page, 'viewer-exif.png');
  });

  it('lists exact copies and near-duplicates with a keeper, exports them, and deletes nothing', async () => {
    const page = await open('/');
    await waitForTiles(page, 4);
    await page.locator('#dupes-open').click();
    await page.waitForSelector('.dupe-group');
    expect(new URL(page.url()).searchParams.get('view')).toBe('duplicates');
    // The generated test model (random weights) finds every drawing alike: a stricter threshold.
    await page.goto(`${server.url}/?view=duplicates&threshold=0.99`);
    await page.waitForSelector('.dupe-group');
    const groups = await page.$$eval('.dupe-group', (gs) => gs.map((g) => ({ title: g.querySelector('h3')!.textContent!, paths: [...g.querySelectorAll('.dupe-path')].map((p) => p.textContent!) })));
    const groupOf = (rel: string) => groups.find((g) => g.paths.includes(path.join(root, rel)));
    // The exact copy and the resized re-encode are grouped with their originals (the random-weight
    // test model may chain other drawings in too: group membership beyond these is not asserted).
    expect(groupOf('backup/cat-copy.jpg')).toBe(groupOf('home/cat.jpg'));
    expect(groupOf('backup/snow-small.jpg')).toBe(groupOf('trips/2022/snow.jpg'));
    expect(groupOf('backup/snow-small.jpg')).toBeDefined();
    // Each group shows one keeper, first; the small re-encode is never it.
    for (const g of groups) expect(g.paths[0]).not.toBe(path.join(root, 'backup/snow-small.jpg'));
    expect(await page.locator('.dupe-group .dupe-card.keeper').count()).toBe(groups.length);
    expect(await page.$$eval('.dupe-group', (gs) => gs.every((g) => g.querySelector('.dupe-card')!.classList.contains('keeper')))).toBe(true);
    const csv = await page.locator('.dupes-controls a', { hasText: 'Export CSV' }).getAttribute('href');
    const res = await fetch(`${server.url}${csv}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('snow-small.jpg');
    await shot(page, 'duplicates.png');
    for (const p of [...PHOTOS.map((x) => x.rel), 'backup/cat-copy.jpg', 'backup/snow-small.jpg']) await access(path.join(root, p));

    const phone = await open('/?view=duplicates', { width: 390, height: 844 });
    await phone.waitForSelector('.dupe-group');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(phone, 'duplicates-phone.png');
  });
});
