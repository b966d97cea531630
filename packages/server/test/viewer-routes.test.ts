// The routes the page's viewer and selection use: image info, the display rendition, downloads
// (one original as an attachment, several as a streamed zip), and thumbnails made ahead of view.
// Real engine, real files, real sharp; archives read back with yauzl.
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type PixsearchApp } from '../src/index.js';
import { ImageDetailsSchema } from '../src/schemas.js';
import { ThumbnailCache } from '../src/thumbnails.js';
import { zipNames } from '../src/routes/zip.js';
import { openLibrary, type TestLibrary } from './support/library.js';
import { drawTestImage } from '@pixsearch/core/testing';

let lib: TestLibrary;
let app: PixsearchApp;
/** id of a 3000×1500 TIFF (larger than the display size). */
let bigTiff: number;

beforeAll(async () => {
  lib = await openLibrary({ count: 12, sync: false });
  await writeFile(path.join(lib.root, 'trips', 'panorama.tif'), await drawTestImage(77, { width: 3000, height: 1500, format: 'tiff' }));
  await lib.engine.sync();
  app = createApp(lib.engine);
  bigTiff = idOf('trips/panorama.tif');
});

afterAll(async () => {
  await app?.shutdown();
  await lib?.close();
});

function idOf(rel: string): number {
  for (let id = 0; id < 1000; id++) if (lib.engine.getImage(id)?.path === rel) return id;
  throw new Error(`no catalog id for ${rel}`);
}

interface ZipRead {
  name: string;
  bytes: Buffer;
  compressed: boolean;
}

function readZip(buf: Buffer): Promise<ZipRead[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: ZipRead[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.push({ name: entry.fileName, bytes: Buffer.concat(chunks), compressed: entry.compressionMethod !== 0 });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('GET /api/images/:id/info', () => {
  it('returns the full path, folder, size, dates and URLs of an image', async () => {
    const res = await app.request(`/api/images/${bigTiff}/info`);
    expect(res.status).toBe(200);
    const info = ImageDetailsSchema.parse(await res.json());
    expect(info).toMatchObject({
      id: bigTiff,
      root: lib.root,
      path: 'trips/panorama.tif',
      absPath: path.join(lib.root, 'trips', 'panorama.tif'),
      folder: 'trips',
      width: 3000,
      height: 1500,
      format: 'tiff',
      displayUrl: `/api/images/${bigTiff}/display`,
      downloadUrl: `/api/images/${bigTiff}?download=1`,
    });
    expect(info.size).toBeGreaterThan(1000);
    expect(Date.parse(info.mtime)).toBeGreaterThan(0);
    expect(info).not.toHaveProperty('status');
    const top = lib.images.find((i) => !i.rel.includes('/'))!;
    expect(((await (await app.request(`/api/images/${idOf(top.rel)}/info`)).json()) as { folder: string }).folder).toBe('');
    expect((await app.request('/api/images/99999/info')).status).toBe(404);
  });
});

describe('GET /api/images/:id/display', () => {
  it('shows any format as WebP bounded by 2048 px, never enlarged, cached with an ETag', async () => {
    const res = await app.request(`/api/images/${bigTiff}/display`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 2048, 1024]);
    const again = await app.request(`/api/images/${bigTiff}/display`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const cached = await readdir(path.join(lib.dataDir, 'thumbnails', '2048'), { recursive: true });
    expect(cached.filter((f) => f.endsWith('.webp'))).toHaveLength(1);

    const small = lib.images.find((i) => i.format === 'tiff')!;
    const meta2 = await sharp(Buffer.from(await (await app.request(`/api/images/${idOf(small.rel)}/display`)).arrayBuffer())).metadata();
    expect([meta2.width, meta2.height]).toEqual([small.width, small.height]);
  });
});

describe('GET /api/images/:id?download=1', () => {
  it('sends the original as an attachment', async () => {
    const img = lib.images.find((i) => i.format === 'jpeg')!;
    const id = idOf(img.rel);
    const res = await app.request(`/api/images/${id}?download=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${path.basename(img.rel)}"; filename*=UTF-8''${encodeURIComponent(path.basename(img.rel))}`);
    expect((await app.request(`/api/images/${id}`)).headers.get('content-disposition')).toMatch(/^inline;/);
    expect((await app.request(`/api/images/${id}?download=yes`)).status).toBe(400);
  });
});

describe('GET /api/zip', () => {
  it('streams the selected originals, byte for byte, with a Content-Length', async () => {
    const picks = lib.images.slice(0, 5);
    const ids = picks.map((i) => idOf(i.rel));
    const res = await app.request(`/api/zip?ids=${ids.join(',')},${ids[0]}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="pixsearch-5-images.zip"');
    const buf = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(buf.length);
    const entries = await readZip(buf);
    expect(entries.map((e) => e.name).sort()).toEqual(picks.map((p) => p.rel).sort());
    for (const e of entries) {
      expect(e.compressed).toBe(false);
      const { readFile } = await import('node:fs/promises');
      expect(e.bytes.equals(await readFile(path.join(lib.root, e.name)))).toBe(true);
    }
  });

  it('lists files gone since the sync in MISSING.txt, and refuses unknown ids and bad lists', async () => {
    const gone = lib.images[6]!;
    const keep = lib.images[7]!;
    const goneId = idOf(gone.rel);
    const { readFile } = await import('node:fs/promises');
    const saved = await readFile(path.join(lib.root, gone.rel));
    await rm(path.join(lib.root, gone.rel));
    try {
      const res = await app.request(`/api/zip?ids=${goneId},${idOf(keep.rel)}`);
      expect(res.status).toBe(200);
      const entries = await readZip(Buffer.from(await res.arrayBuffer()));
      expect(entries.map((e) => e.name)).toEqual([keep.rel, 'MISSING.txt']);
      expect(entries[1]!.bytes.toString()).toContain(gone.rel);
      expect((await app.request(`/api/zip?ids=${goneId}`)).status).toBe(404);
    } finally {
      await writeFile(path.join(lib.root, gone.rel), saved);
    }
    const unknown = await app.request('/api/zip?ids=1,99999');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe('image 99999 not found');
    for (const bad of ['', 'a', '1,,2', '-1', '1;2', Array.from({ length: 1001 }, (_, i) => i).join(',')]) {
      const r = await app.request(`/api/zip?ids=${encodeURIComponent(bad)}`);
      expect(r.status, bad.slice(0, 20)).toBe(400);
    }
  });

  it('names entries from several roots under their root folder and de-duplicates clashes', () => {
    expect(zipNames([{ root: '/a/photos', path: 'x.jpg' }, { root: '/b/scans', path: 'x.jpg' }])).toEqual(['photos/x.jpg', 'scans/x.jpg']);
    expect(zipNames([{ root: '/a/p', path: 'x.jpg' }, { root: '/b/p', path: 'x.jpg' }, { root: '/b/p', path: 'X.JPG' }])).toEqual(['p/x.jpg', 'p/x (2).jpg', 'p/X (3).JPG']);
    expect(zipNames([{ root: '/r', path: 'a/.hidden' }])).toEqual(['a/.hidden']);
  });
});

describe('thumbnails made ahead of view', () => {
  it('a search starts the 512 px thumbnails of its page; smaller sizes are made from them', async () => {
    const dir = path.join(lib.dir, 'warm-thumbs');
    const own = createApp(lib.engine, { thumbnailDir: dir });
    const res = await own.request('/api/search?q=forest&k=6&threshold=-1');
    const { results } = (await res.json()) as { results: { id: number }[] };
    expect(results).toHaveLength(6);
    // shutdown() waits for the generations the search started.
    await own.shutdown();
    const cache = new ThumbnailCache(dir);
    for (const r of results) await cache.get(lib.engine.getImage(r.id)!, 512);
    expect(cache.generated).toBe(0);
    const small = await cache.get(lib.engine.getImage(results[0]!.id)!, 128);
    expect([cache.generated, cache.derived]).toEqual([0, 1]);
    const meta = await sharp(small.bytes).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBe(128);
  });

  it('after a sync, the newest photos (the first screen of the timeline) get their thumbnails', async () => {
    const dir = path.join(lib.dir, 'warm-after-sync');
    const own = createApp(lib.engine, { thumbnailDir: dir });
    await writeFile(path.join(lib.root, 'fresh.png'), await drawTestImage(55, { width: 300, height: 200, format: 'png' }));
    expect((await own.request('/api/sync', { method: 'POST' })).status).toBe(202);
    // Wait for the sync to finish (its end starts the warming), then for the warming (shutdown waits).
    while (((await (await own.request('/api/status')).json()) as { sync: { running: boolean } }).sync.running) await new Promise((r) => setTimeout(r, 20));
    await own.shutdown();
    const fresh = lib.engine.getImage(idOf('fresh.png'))!;
    const cache = new ThumbnailCache(dir);
    await cache.get(fresh, 512);
    expect(cache.generated).toBe(0);
  });
});
