// Filters, date sort, browse, facets, "more like these" and duplicates through the HTTP API,
// against a real engine (tiny generated CLIP model, SQLite, FAISS) over photos with EXIF.
import { copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@pixsearch/index-faiss';
import { SearchEngine } from '@pixsearch/core/engine';
import { drawTestImage, ensureTinyBundle } from '@pixsearch/core/testing';
import { createApp, type PixsearchApp } from '../src/index.js';
import { BrowseResponseSchema, DuplicatesResponseSchema, FacetsSchema, SearchResponseSchema } from '../src/schemas.js';

const PHOTOS = [
  { rel: 'trips/2023/beach.jpg', i: 1, make: 'FUJIFILM', model: 'X-T4', date: '2023:07:14 10:00:00', offset: '+02:00', gps: true },
  { rel: 'trips/2023/dunes.jpg', i: 2, make: 'FUJIFILM', model: 'X-T4', date: '2023:07:20 18:30:00' },
  { rel: 'trips/2022/snow.jpg', i: 3, make: 'Canon', model: 'Canon EOS R5', date: '2022:12:24 12:00:00' },
  { rel: 'home/cat.jpg', i: 4, make: 'Apple', model: 'iPhone 12', date: '2021:03:01 09:00:00', gps: true },
  { rel: 'home/dog.png', i: 5 },
];

let dir: string;
let root: string;
let engine: SearchEngine;
let app: PixsearchApp;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-browse-api-'));
  root = path.join(dir, 'photos');
  for (const p of PHOTOS) {
    const file = path.join(root, p.rel);
    await mkdir(path.dirname(file), { recursive: true });
    if (p.rel.endsWith('.png')) {
      await writeFile(file, await drawTestImage(p.i, { width: 96, height: 64, format: 'png' }));
      // No EXIF: the file date (2020) stands in.
      await utimes(file, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
      continue;
    }
    const exif: Record<string, Record<string, string>> = {
      IFD0: { ...(p.make ? { Make: p.make } : {}), ...(p.model ? { Model: p.model } : {}) },
      IFD2: { ...(p.date ? { DateTimeOriginal: p.date } : {}), ...(p.offset ? { OffsetTimeOriginal: p.offset } : {}) },
      IFD3: p.gps ? { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 3/1' } : {},
    };
    await writeFile(file, await sharp(await drawTestImage(p.i, { width: 96, height: 64, format: 'png' })).jpeg({ quality: 90 }).withExif(exif).toBuffer());
  }
  await copyFile(path.join(root, 'home/cat.jpg'), path.join(root, 'home/cat-copy.jpg'));
  engine = await SearchEngine.open({ dataDir: path.join(dir, 'data'), roots: [root], model: await ensureTinyBundle(), threads: 1, batchSize: 8 });
  await engine.sync();
  app = createApp(engine);
});

afterAll(async () => {
  await app?.shutdown();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; field?: string; message: string } } }> {
  const res = await app.request(url);
  return { status: res.status, body: (await res.json()) as never };
}

describe('filters and sort on /api/search', () => {
  it('date range, camera, folder, format and location combine with a text query; totals are exact', async () => {
    const r = SearchResponseSchema.parse((await get('/api/search?q=holiday&threshold=-1&from=2023-07-01&to=2023-07-31')).body);
    expect(r.results.map((x) => x.path).sort()).toEqual(['trips/2023/beach.jpg', 'trips/2023/dunes.jpg']);
    expect(r.total).toBe(2);
    expect(r.nextOffset).toBeNull();
    const hit = r.results.find((x) => x.path === 'trips/2023/beach.jpg')!;
    expect(hit).toMatchObject({ takenAt: '2023-07-14T10:00:00+02:00', dateSource: 'exif-original', camera: 'FUJIFILM X-T4', absPath: path.join(root, 'trips/2023/beach.jpg') });
    expect(hit.latitude).toBeCloseTo(48.8566667, 5);
    const canonOrApple = SearchResponseSchema.parse((await get('/api/search?q=x&threshold=-1&camera=canon&camera=iphone')).body);
    expect(canonOrApple.results.map((x) => x.path).sort()).toEqual(['home/cat-copy.jpg', 'home/cat.jpg', 'trips/2022/snow.jpg']);
    const folder = SearchResponseSchema.parse((await get(`/api/search?q=x&threshold=-1&path=${encodeURIComponent(path.join(root, 'trips') + '/')}&format=jpg`)).body);
    expect(folder.total).toBe(3);
    const located = SearchResponseSchema.parse((await get('/api/search?q=x&threshold=-1&hasLocation=true&k=1')).body);
    expect(located.total).toBe(3);
    expect(located.nextOffset).toBe(1);
    const big = SearchResponseSchema.parse((await get('/api/search?q=x&threshold=-1&minWidth=96&minHeight=64')).body);
    expect(big.total).toBe(6);
  });

  it('date sort over the results above the threshold, paged', async () => {
    const all = SearchResponseSchema.parse((await get('/api/search?q=x&threshold=-1&sort=date-desc&k=2')).body);
    expect(all.results.map((x) => x.path)).toEqual(['trips/2023/dunes.jpg', 'trips/2023/beach.jpg']);
    expect(all.total).toBe(6);
    expect(all.nextOffset).toBe(2);
    const asc = SearchResponseSchema.parse((await get('/api/search?q=x&threshold=-1&sort=date-asc&k=1')).body);
    expect(asc.results[0]!).toMatchObject({ path: 'home/dog.png', dateSource: 'mtime' });
  });

  it('bad filters are 400s naming the field', async () => {
    for (const [q, field] of [
      ['from=yesterday', 'from'],
      ['to=2023-02-30', 'to'],
      ['sort=newest', 'sort'],
      ['hasLocation=maybe', 'hasLocation'],
      ['minWidth=-1', 'minWidth'],
      ['from=2023-09-01&to=2023-01-01', 'from'],
    ] as const) {
      const { status, body } = await get(`/api/search?q=x&${q}`);
      expect(status, q).toBe(400);
      expect(body.error?.field, q).toBe(field);
    }
  });
});

describe('browse, facets, more like these, duplicates', () => {
  it('GET /api/browse: newest first, exact total, end of results', async () => {
    const page = BrowseResponseSchema.parse((await get('/api/browse?k=4')).body);
    expect(page.total).toBe(6);
    expect(page.results.slice(0, 3).map((x) => x.path)).toEqual(['trips/2023/dunes.jpg', 'trips/2023/beach.jpg', 'trips/2022/snow.jpg']);
    expect(page.nextOffset).toBe(4);
    const last = BrowseResponseSchema.parse((await get('/api/browse?k=4&offset=4')).body);
    expect(last.results).toHaveLength(2);
    expect(last.nextOffset).toBeNull();
    const fuji = BrowseResponseSchema.parse((await get('/api/browse?camera=fujifilm&sort=date-asc')).body);
    expect(fuji.results.map((x) => x.path)).toEqual(['trips/2023/beach.jpg', 'trips/2023/dunes.jpg']);
    expect((await get('/api/browse?sort=relevance')).status).toBe(400);
  });

  it('GET /api/facets', async () => {
    const f = FacetsSchema.parse((await get('/api/facets')).body);
    expect(f.total).toBe(6);
    expect(f.cameras).toEqual([
      { value: 'Apple iPhone 12', count: 2 },
      { value: 'FUJIFILM X-T4', count: 2 },
      { value: 'Canon EOS R5', count: 1 },
    ]);
    expect(f.formats).toEqual([
      { value: 'jpeg', count: 5 },
      { value: 'png', count: 1 },
    ]);
    expect(f.folders.map((x) => x.path)).toEqual([root, path.join(root, 'home'), path.join(root, 'trips'), path.join(root, 'trips/2022'), path.join(root, 'trips/2023')]);
    expect(f.dateRange?.to).toBe('2023-07-20');
    expect(f.located).toBe(3);
    expect(FacetsSchema.parse((await get('/api/facets?path=trips/')).body).total).toBe(3);
  });

  it('GET /api/search/similar?ids=…: more like these', async () => {
    const all = (await get('/api/browse')).body as { results: { id: number; path: string }[] };
    const ids = all.results.filter((x) => x.path.startsWith('trips/2023/')).map((x) => x.id);
    const r = SearchResponseSchema.parse((await get(`/api/search/similar?ids=${ids.join(',')}&threshold=-1&k=10`)).body);
    expect(r.total).toBe(4);
    expect(r.results.map((x) => x.id)).not.toContain(ids[0]);
    const filtered = SearchResponseSchema.parse((await get(`/api/search/similar?ids=${ids[0]}&ids=${ids[1]}&threshold=-1&camera=canon`)).body);
    expect(filtered.results.map((x) => x.path)).toEqual(['trips/2022/snow.jpg']);
    expect((await get('/api/search/similar?ids=999999')).status).toBe(404);
    expect((await get('/api/search/similar?ids=abc')).body.error?.field).toMatch(/^ids/);
  });

  it('GET /api/duplicates, and its CSV export', async () => {
    // The generated model has random weights: only exact copies are asked for here.
    const d = DuplicatesResponseSchema.parse((await get('/api/duplicates?threshold=1')).body);
    const exact = d.groups.find((g) => g.kind === 'exact')!;
    expect(exact.images.map((m) => m.path).sort()).toEqual(['home/cat-copy.jpg', 'home/cat.jpg']);
    expect(exact.images[1]!.similarity).toBe(1);
    expect(exact.keeper).toBe(exact.images[0]!.id);
    const res = await app.request('/api/duplicates?threshold=1&download=csv');
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toBe('group,kind,keeper,id,path,similarity,width,height,bytes,format,takenAt,camera,hash');
    expect(lines).toHaveLength(3);
    expect((await get('/api/duplicates?threshold=2')).status).toBe(400);
  });
});
