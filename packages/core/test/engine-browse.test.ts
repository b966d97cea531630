// Browsing like a photo app: metadata filters combined with queries (inside the search, exact
// totals), date sort, browse without a query, facets, "more like these", the metadata backfill of
// an existing library, and near-duplicates. Real sharp images with EXIF, real SQLite and FAISS.
import { copyFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '@pixsearch/core';
import { SearchEngine, type SearchResponse } from '@pixsearch/core/engine';
import { IndexStore } from '../src/engine/index-store.js';
import { resolveFilter } from '../src/engine/filter.js';
import { knn } from '../src/engine/search.js';
import { SqliteCatalog } from '../src/engine/sqlite-catalog.js';
import { PixelEmbedder, registerFaiss, removeDir, tempDir } from './engine-helpers.js';
import { testScene, writeTestImage } from '@pixsearch/core/testing';

interface Shot {
  rel: string;
  seed: number;
  make?: string;
  model?: string;
  date?: string;
  offset?: string;
  gps?: boolean;
  size?: { width: number; height: number };
}

/** A JPEG (or PNG) drawn from `seed`, with the given EXIF. */
async function writePhoto(root: string, s: Shot): Promise<void> {
  const file = path.join(root, s.rel);
  await writeTestImage(file, s.seed, s.size ?? { width: 48, height: 40 });
  if (s.rel.endsWith('.png')) return;
  const exif: Record<string, Record<string, string>> = { IFD0: {}, IFD2: {}, IFD3: {} };
  if (s.make) exif.IFD0!.Make = s.make;
  if (s.model) exif.IFD0!.Model = s.model;
  if (s.date) exif.IFD2!.DateTimeOriginal = s.date;
  if (s.offset) exif.IFD2!.OffsetTimeOriginal = s.offset;
  if (s.gps) Object.assign(exif.IFD3!, { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 3/1' });
  await writeFile(file, await sharp(file).jpeg({ quality: 92 }).withExif(exif).toBuffer());
}

const SHOTS: Shot[] = [
  { rel: 'summer/beach-1.jpg', seed: 1, make: 'FUJIFILM', model: 'X-T4', date: '2023:07:14 10:00:00', offset: '+02:00', gps: true },
  { rel: 'summer/beach-2.jpg', seed: 2, make: 'FUJIFILM', model: 'X-T4', date: '2023:07:20 18:30:00', offset: '+02:00', gps: true },
  { rel: 'summer/beach-3.jpg', seed: 3, make: 'Apple', model: 'iPhone 12', date: '2023:08:01 09:00:00', gps: true, size: { width: 96, height: 64 } },
  { rel: 'summer/late.jpg', seed: 4, make: 'Canon', model: 'Canon EOS R5', date: '2023:08:31 23:59:59' },
  { rel: 'winter/snow-1.jpg', seed: 5, make: 'Canon', model: 'Canon EOS R5', date: '2022:12:24 12:00:00' },
  { rel: 'winter/snow-2.jpg', seed: 6, make: 'Canon', model: 'Canon EOS R5', date: '2023:01:02 08:00:00', size: { width: 96, height: 64 } },
  { rel: 'winter/snow-3.jpg', seed: 7, date: '2023:01:03 08:00:00' },
  { rel: 'misc/scan.png', seed: 8 },
  { rel: 'misc/old.jpg', seed: 9, make: 'NIKON CORPORATION', model: 'NIKON D750', date: '2015:05:05 05:05:05' },
];
/** Filler images without metadata (file date 2010), so that filters select a small share. */
const FILLER = 40;
const FILLER_DATE = new Date('2010-06-15T12:00:00Z');

let dir: string;
let lib: string;
let dataDir: string;
let engine: SearchEngine;
const idOf = new Map<string, number>();

beforeAll(async () => {
  await registerFaiss();
  dir = await tempDir();
  lib = path.join(dir, 'lib');
  for (const s of SHOTS) await writePhoto(lib, s);
  await utimes(path.join(lib, 'misc/scan.png'), new Date('2021-03-04T05:06:07Z'), new Date('2021-03-04T05:06:07Z'));
  for (let i = 0; i < FILLER; i++) {
    const file = path.join(lib, 'filler', `f-${i}.png`);
    await writeTestImage(file, 1000 + i);
    await utimes(file, FILLER_DATE, FILLER_DATE);
  }
  dataDir = path.join(dir, 'data');
  engine = await SearchEngine.open({ dataDir, roots: [lib], embedder: new PixelEmbedder() });
  await engine.sync();
  const all = await engine.browse({ k: 1000 });
  for (const r of all.results) idOf.set(r.path, r.id);
});
afterAll(async () => {
  await engine?.close();
  await removeDir(dir);
});

const paths = (r: { results: { path: string }[] }): string[] => r.results.map((h) => h.path);
const sorted = (a: string[]): string[] => [...a].sort();

describe('metadata in results', () => {
  test('date taken, camera, GPS and the file-date fallback', () => {
    const beach = engine.getImage(idOf.get('summer/beach-1.jpg')!)!;
    expect(beach).toMatchObject({
      takenAt: '2023-07-14T10:00:00+02:00',
      dateSource: 'exif-original',
      camera: 'FUJIFILM X-T4',
      make: 'FUJIFILM',
      model: 'X-T4',
      width: 48,
      height: 40,
      format: 'jpeg',
      absPath: path.join(lib, 'summer/beach-1.jpg'),
    });
    expect(beach.latitude).toBeCloseTo(48.8566667, 5);
    expect(beach.bytes).toBeGreaterThan(0);
    expect(engine.getImage(idOf.get('winter/snow-3.jpg')!)).toMatchObject({ takenAt: '2023-01-03T08:00:00', dateSource: 'exif-original', camera: null });
    const scan = engine.getImage(idOf.get('misc/scan.png')!)!;
    expect(scan.dateSource).toBe('mtime');
    expect(new Date(scan.takenAt!).toISOString()).toBe('2021-03-04T05:06:07.000Z');
  });
});

describe('filters inside the search', () => {
  const q = 'anything';
  test('date range (inclusive days), camera, folder, format, size and location, with exact totals', async () => {
    const summer = await engine.search(q, { threshold: -1, from: '2023-07-01', to: '2023-08-31' });
    expect(sorted(paths(summer))).toEqual(['summer/beach-1.jpg', 'summer/beach-2.jpg', 'summer/beach-3.jpg', 'summer/late.jpg']);
    expect(summer.total).toBe(4);
    const july = await engine.search(q, { threshold: -1, from: '2023-07-14', to: '2023-07-14' });
    expect(paths(july)).toEqual(['summer/beach-1.jpg']);
    // With a zone the instant counts: 10:00+02:00 is 08:00Z.
    expect(paths(await engine.search(q, { threshold: -1, from: '2023-07-14T08:30:00Z', to: '2023-07-15T00:00:00Z' }))).toEqual([]);
    expect(paths(await engine.search(q, { threshold: -1, from: '2023-07-14T07:59:00Z', to: '2023-07-14T08:00:00Z' }))).toEqual(['summer/beach-1.jpg']);
    const canon = await engine.search(q, { threshold: -1, camera: 'canon' });
    expect(sorted(paths(canon))).toEqual(['summer/late.jpg', 'winter/snow-1.jpg', 'winter/snow-2.jpg']);
    expect(canon.total).toBe(3);
    expect(sorted(paths(await engine.search(q, { threshold: -1, camera: ['X-T4', 'nikon'] })))).toEqual(['misc/old.jpg', 'summer/beach-1.jpg', 'summer/beach-2.jpg']);
    expect(sorted(paths(await engine.search(q, { threshold: -1, camera: 'Canon EOS R5', pathPrefix: 'winter/' })))).toEqual(['winter/snow-1.jpg', 'winter/snow-2.jpg']);
    expect(sorted(paths(await engine.search(q, { threshold: -1, pathPrefix: path.join(lib, 'winter') + '/' })))).toEqual([
      'winter/snow-1.jpg',
      'winter/snow-2.jpg',
      'winter/snow-3.jpg',
    ]);
    expect((await engine.search(q, { threshold: -1, format: 'jpg', k: 100 })).total).toBe(8);
    expect((await engine.search(q, { threshold: -1, format: ['png'], k: 100 })).total).toBe(FILLER + 1);
    expect(sorted(paths(await engine.search(q, { threshold: -1, minWidth: 90, minHeight: 60 })))).toEqual(['summer/beach-3.jpg', 'winter/snow-2.jpg']);
    expect(sorted(paths(await engine.search(q, { threshold: -1, hasLocation: true })))).toEqual(['summer/beach-1.jpg', 'summer/beach-2.jpg', 'summer/beach-3.jpg']);
    expect((await engine.search(q, { threshold: -1, hasLocation: false, k: 100 })).total).toBe(SHOTS.length + FILLER - 3);
    expect(await engine.search(q, { camera: 'Leica' })).toMatchObject({ results: [], total: 0 });
  });

  test('a rare filter returns its k best on the over-fetch path too, and totals are exact', async () => {
    const catalog = SqliteCatalog.open(path.join(dataDir, 'catalog.db'), { readOnly: true });
    const store = await IndexStore.open({ dataDir, catalog, readOnly: true, warn: () => undefined }, { backend: 'faiss-flat', params: {} });
    try {
      const q = (await new PixelEmbedder().embedTexts(['rare'])).slice();
      const roots = new Map(catalog.roots().map((r) => [r.id, r.path]));
      const base = { k: 2, offset: 1, threshold: -1, relativeThreshold: undefined, filter: resolveFilter({ camera: 'canon', from: '2022-01-01' }), exclude: new Set<number>(), params: undefined };
      const exact = await knn(catalog, store, roots, q, base);
      const fetched = await knn(catalog, store, roots, q, { ...base, prefilterMax: 0 });
      expect(fetched.hits.map((h) => h.image.id)).toEqual(exact.hits.map((h) => h.image.id));
      expect(fetched.hits).toHaveLength(2);
      expect(exact.total).toBe(3);
      expect(fetched.total).toBe(3);
      // Date sort on both paths.
      const byDate = { ...base, k: 3, offset: 0, sort: 'date-asc' as const };
      const a = await knn(catalog, store, roots, q, byDate);
      const b = await knn(catalog, store, roots, q, { ...byDate, prefilterMax: 0 });
      const expected = ['winter/snow-1.jpg', 'winter/snow-2.jpg', 'summer/late.jpg'];
      expect(a.hits.map((h) => h.image.relPath)).toEqual(expected);
      expect(b.hits.map((h) => h.image.relPath)).toEqual(expected);
      // No filter, a page smaller than the hits above the threshold: still an exact total.
      const unfiltered = await knn(catalog, store, roots, q, { ...base, filter: undefined });
      expect(unfiltered.total).toBe(SHOTS.length + FILLER);
    } finally {
      await store.close();
      catalog.close();
    }
  });

  test('date sort over every result above the threshold, paged consistently', async () => {
    const all = await engine.search('x', { threshold: -1, sort: 'date-desc', k: 100 });
    expect(all.total).toBe(SHOTS.length + FILLER);
    expect(all.results[0]!.path).toBe('summer/late.jpg');
    expect(all.results.slice(0, 4).map((r) => r.path)).toEqual(['summer/late.jpg', 'summer/beach-3.jpg', 'summer/beach-2.jpg', 'summer/beach-1.jpg']);
    const pages: string[] = [];
    for (let offset = 0; offset < 12; offset += 4) pages.push(...paths(await engine.search('x', { threshold: -1, sort: 'date-desc', k: 4, offset })));
    expect(pages).toEqual(paths(all).slice(0, 12));
    const asc = await engine.search('x', { threshold: -1, sort: 'date-asc', k: 100 });
    expect(paths(asc)).toEqual([...paths(all)].reverse());
    expect(asc.results[asc.results.length - 1]!.path).toBe('summer/late.jpg');
    // The threshold still applies before sorting.
    const best = (await engine.search('x', { threshold: -1, k: 1 })).results[0]!.score;
    const top = await engine.search('x', { threshold: best, sort: 'date-desc' });
    expect(top.total).toBe(1);
    await expect(engine.search('x', { sort: 'newest' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('x', { from: '2023-09-01', to: '2023-01-01' })).rejects.toThrow(/from is after to/);
    await expect(engine.search('x', { from: 'last summer' })).rejects.toThrow(/^from/);
  });
});

describe('browse, facets, more like these', () => {
  test('browse: newest first with exact totals, filters and paging', async () => {
    const first = await engine.browse({ k: 3 });
    expect(first.total).toBe(SHOTS.length + FILLER);
    expect(paths(first)).toEqual(['summer/late.jpg', 'summer/beach-3.jpg', 'summer/beach-2.jpg']);
    const next = await engine.browse({ k: 3, offset: 3 });
    expect(paths(next)).toEqual(['summer/beach-1.jpg', 'winter/snow-3.jpg', 'winter/snow-2.jpg']);
    const winter = await engine.browse({ pathPrefix: 'winter/', sort: 'date-asc' });
    expect(paths(winter)).toEqual(['winter/snow-1.jpg', 'winter/snow-2.jpg', 'winter/snow-3.jpg']);
    expect(winter.total).toBe(3);
    const y2023 = await engine.browse({ from: '2023-01-01', to: '2023-12-31', camera: 'canon' });
    expect(paths(y2023)).toEqual(['summer/late.jpg', 'winter/snow-2.jpg']);
    await expect(engine.browse({ sort: 'relevance' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test('facets: cameras, formats, folders, date range, months', async () => {
    const f = await engine.facets();
    expect(f.total).toBe(SHOTS.length + FILLER);
    expect(f.cameras).toEqual([
      { value: 'Canon EOS R5', count: 3 },
      { value: 'FUJIFILM X-T4', count: 2 },
      { value: 'Apple iPhone 12', count: 1 },
      { value: 'NIKON D750', count: 1 },
    ]);
    expect(f.formats).toEqual([
      { value: 'png', count: FILLER + 1 },
      { value: 'jpeg', count: 8 },
    ]);
    expect(f.folders).toContainEqual({ path: lib, count: SHOTS.length + FILLER });
    expect(f.folders).toContainEqual({ path: path.join(lib, 'summer'), count: 4 });
    expect(f.dateRange).toEqual({ from: '2010-06-15', to: '2023-08-31' });
    expect(f.months[0]).toEqual({ month: '2023-08', count: 2 });
    expect(f.located).toBe(3);
    const summer = await engine.facets({ pathPrefix: 'summer/' });
    expect(summer.total).toBe(4);
    expect(summer.cameras.map((c) => c.value)).toEqual(['FUJIFILM X-T4', 'Apple iPhone 12', 'Canon EOS R5']);
  });

  test('more like these: the mean of several stored embeddings, the ids left out', async () => {
    const ids = [idOf.get('summer/beach-1.jpg')!, idOf.get('winter/snow-1.jpg')!];
    const res: SearchResponse = await engine.moreLike(ids, { threshold: -1, k: 100 });
    expect(res.results.map((r) => r.id)).not.toContain(ids[0]);
    expect(res.results.map((r) => r.id)).not.toContain(ids[1]);
    expect(res.total).toBe(SHOTS.length + FILLER - 2);
    const same = await engine.search(ids.map((imageId) => ({ imageId })), { threshold: -1, k: 100 });
    expect(res.results.map((r) => r.id)).toEqual(same.results.map((r) => r.id));
    const filtered = await engine.moreLike(ids, { threshold: -1, camera: 'canon' });
    expect(sorted(paths(filtered))).toEqual(['summer/late.jpg', 'winter/snow-2.jpg']);
    await expect(engine.moreLike([999_999])).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine.moreLike([])).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('an existing library gets metadata on its next sync, without re-embedding', () => {
  test('backfill', async () => {
    const d = path.join(dir, 'old-data');
    const spy = new PixelEmbedder();
    let e = await SearchEngine.open({ dataDir: d, roots: [path.join(lib, 'summer')], embedder: spy });
    await e.sync();
    await e.close();
    // As a library indexed before metadata existed: no metadata read.
    const db = new Database(path.join(d, 'catalog.db'));
    db.exec('UPDATE images SET meta_version = 0, taken_at = NULL, taken_local = NULL, camera = NULL, make = NULL, model = NULL');
    db.close();
    e = await SearchEngine.open({ dataDir: d, embedder: spy });
    try {
      expect((await e.browse({ camera: 'fuji' })).total).toBe(0);
      const phases: string[] = [];
      e.on('progress', (p) => phases.push(p.phase));
      const summary = await e.sync();
      expect(summary.embedded).toBe(0);
      expect(summary.unchanged).toBe(4);
      expect(phases).toContain('metadata');
      expect((await e.browse({ camera: 'fuji' })).total).toBe(2);
      expect((await e.browse({ k: 1 })).results[0]).toMatchObject({ path: 'late.jpg', takenAt: '2023-08-31T23:59:59', camera: 'Canon EOS R5' });
      // Nothing left to backfill.
      phases.length = 0;
      await e.sync();
      expect(phases).not.toContain('metadata');
    } finally {
      await e.close();
    }
  });
});

describe('near-duplicates', () => {
  test('exact copies and resized / re-encoded / cropped copies are grouped; others are not; nothing is touched', async () => {
    const root = path.join(dir, 'dups');
    await mkdir(root, { recursive: true });
    const original = path.join(root, 'original.jpg');
    await writeFile(original, await (await testScene(77, { width: 160, height: 120 })).jpeg({ quality: 92 }).toBuffer());
    await copyFile(original, path.join(root, 'original copy.jpg'));
    await writeFile(path.join(root, 'resized.jpg'), await sharp(original).resize(80, 60).jpeg({ quality: 90 }).toBuffer());
    await writeFile(path.join(root, 'reencoded.webp'), await sharp(original).webp({ quality: 60 }).toBuffer());
    await writeFile(path.join(root, 'cropped.jpg'), await sharp(original).extract({ left: 4, top: 3, width: 152, height: 114 }).jpeg().toBuffer());
    for (let i = 0; i < 6; i++) await writeFile(path.join(root, `other-${i}.png`), await (await testScene(500 + i, { width: 64, height: 64 })).png().toBuffer());
    const e = await SearchEngine.open({ dataDir: path.join(dir, 'dups-data'), roots: [root], embedder: new PixelEmbedder() });
    try {
      await e.sync();
      const report = await e.duplicates({ threshold: 0.95 });
      expect(report.images).toBe(11);
      expect(report.groups).toHaveLength(1);
      const g = report.groups[0]!;
      expect(g.kind).toBe('near');
      expect(sorted(g.images.map((m) => m.path))).toEqual(['cropped.jpg', 'original copy.jpg', 'original.jpg', 'reencoded.webp', 'resized.jpg']);
      // The keeper has the most pixels (the original or its exact copy: the shorter name).
      expect(g.images[0]!.path).toBe('original.jpg');
      expect(g.keeper).toBe(g.images[0]!.id);
      expect(g.images[1]).toMatchObject({ path: 'original copy.jpg', similarity: 1, hash: g.images[0]!.hash });
      expect(g.minSimilarity).toBeGreaterThanOrEqual(0.95);
      expect(report.redundantBytes).toBe(g.images.slice(1).reduce((n, m) => n + m.bytes, 0));
      // Threshold 1: only the exact copies remain.
      const exact = await e.duplicates({ threshold: 1 });
      expect(exact.groups.map((x) => ({ kind: x.kind, paths: sorted(x.images.map((m) => m.path)) }))).toEqual([{ kind: 'exact', paths: ['original copy.jpg', 'original.jpg'] }]);
      await expect(e.duplicates({ threshold: 2 })).rejects.toBeInstanceOf(InvalidArgumentError);
      // Read only: every file is still there.
      expect((await e.sync()).removed).toBe(0);
    } finally {
      await e.close();
    }
  });
});
