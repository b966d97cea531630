// The JSON API against a real engine (SQLite catalog, FAISS, the generated tiny CLIP model)
// over a real image folder, through app.request() (no socket).
import { execFileSync } from 'node:child_process';
import { readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bombPng, drawTestImage } from '@pixsearch/core/testing';
import { createApp, type EngineLike, type PixsearchApp } from '../src/index.js';
import { LocalHelloSchema, LocalSearchResponseSchema, LocalSyncStartedSchema, SearchResponseSchema, StatusSchema, SyncStartedSchema } from '../src/schemas.js';
import { openLibrary, type TestLibrary } from './support/library.js';
import { readSse } from './support/sse.js';

let lib: TestLibrary;
let app: PixsearchApp;

beforeAll(async () => {
  lib = await openLibrary();
  app = createApp(lib.engine, { heartbeatMs: 250 });
});

afterAll(async () => {
  await app?.shutdown();
  await lib?.close();
});

type Json = Record<string, unknown> & { error?: { code: string; field?: string; message: string } };

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: Json; res: Response }> {
  const res = await app.request(url, init);
  return { status: res.status, body: (await res.json()) as Json, res };
}

function idOf(rel: string): number {
  for (let id = 0; id < 1000; id++) if (lib.engine.getImage(id)?.path === rel) return id;
  throw new Error(`no catalog id for ${rel}`);
}

describe('GET /api/search', () => {
  it('returns ranked results with working image and thumbnail URLs', async () => {
    const { status, body, res } = await getJson('/api/search?q=a%20sunset%20over%20the%20sea&k=5&threshold=-1');
    expect(status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const parsed = SearchResponseSchema.parse(body);
    expect(parsed.results).toHaveLength(5);
    expect(parsed.k).toBe(5);
    expect(parsed.offset).toBe(0);
    expect(parsed.nextOffset).toBe(5);
    const scores = parsed.results.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    for (const r of parsed.results) {
      expect(lib.images.map((i) => i.rel)).toContain(r.path);
      expect(r.root).toBe(lib.root);
      const fixture = lib.images.find((i) => i.rel === r.path)!;
      expect([r.width, r.height]).toEqual([fixture.width, fixture.height]);
      const original = await app.request(r.imageUrl);
      expect(original.status).toBe(200);
      expect((await original.arrayBuffer()).byteLength).toBeGreaterThan(0);
      expect((await app.request(r.thumbnailUrl)).headers.get('content-type')).toBe('image/webp');
    }
  });

  it('pages with offset: pages are disjoint and together equal one longer page', async () => {
    const q = '/api/search?q=mountains&threshold=-1';
    const a = SearchResponseSchema.parse((await getJson(`${q}&k=4&offset=0`)).body);
    const b = SearchResponseSchema.parse((await getJson(`${q}&k=4&offset=4`)).body);
    const both = SearchResponseSchema.parse((await getJson(`${q}&k=8`)).body);
    expect([...a.results, ...b.results].map((r) => r.id)).toEqual(both.results.map((r) => r.id));
    expect(b.offset).toBe(4);
    expect(b.nextOffset).toBe(8);
  });

  it('ends paging with nextOffset null', async () => {
    const all = SearchResponseSchema.parse((await getJson('/api/search?q=x&k=200&threshold=-1')).body);
    expect(all.results.length).toBe(lib.images.length);
    expect(all.nextOffset).toBeNull();
  });

  it('applies the threshold, the relative cutoff and the path filter', async () => {
    const none = SearchResponseSchema.parse((await getJson('/api/search?q=x&threshold=1')).body);
    expect(none.results).toEqual([]);
    expect(none.nextOffset).toBeNull();

    const all = SearchResponseSchema.parse((await getJson('/api/search?q=forest&threshold=-1&k=50')).body);
    const best = all.results[0]!.score;
    const rel = SearchResponseSchema.parse((await getJson('/api/search?q=forest&threshold=-1&k=50&relative=0.05')).body);
    expect(rel.results.length).toBeGreaterThan(0);
    expect(rel.results.length).toBeLessThanOrEqual(all.results.length);
    for (const r of rel.results) expect(r.score).toBeGreaterThanOrEqual(best - 0.05 - 1e-6);

    const sub = SearchResponseSchema.parse((await getJson('/api/search?q=forest&threshold=-1&k=50&path=trips%2F')).body);
    const expected = lib.images.filter((i) => i.rel.startsWith('trips/')).length;
    expect(sub.results).toHaveLength(expected);
    for (const r of sub.results) expect(r.path.startsWith('trips/')).toBe(true);
  });

  it('accepts combined queries and id: terms', async () => {
    const combined = await getJson(`/api/search?q=${encodeURIComponent('"beach" + 2:"sunset" - "people"')}&threshold=-1&k=3`);
    expect(combined.status).toBe(200);
    expect(SearchResponseSchema.parse(combined.body).results).toHaveLength(3);

    const id = idOf(lib.images[0]!.rel);
    const byId = SearchResponseSchema.parse((await getJson(`/api/search?q=${encodeURIComponent(`"x" + id:${id}`)}&threshold=-1&k=200`)).body);
    expect(byId.results.map((r) => r.id)).not.toContain(id);
  });

  it('reads the bare query id:N as "like image N" (the similar search), and answers 404 for an unknown id', async () => {
    const id = idOf(lib.images[1]!.rel);
    const bare = await getJson(`/api/search?q=${encodeURIComponent(`id:${id}`)}&threshold=-1&k=200`);
    expect(bare.status).toBe(200);
    const similar = SearchResponseSchema.parse((await getJson(`/api/images/${id}/similar?threshold=-1&k=200`)).body);
    expect(SearchResponseSchema.parse(bare.body).results.map((r) => r.id)).toEqual(similar.results.map((r) => r.id));
    const unknown = await getJson(`/api/search?q=${encodeURIComponent('id:987654')}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(unknown.body.error?.message).toContain('987654');
  });

  it('reports query syntax errors as 400 naming q', async () => {
    const { status, body } = await getJson(`/api/search?q=${encodeURIComponent('"beach" + ')}`);
    expect(status).toBe(400);
    expect(body.error?.field).toBe('q');
    expect(body.error?.code).toBe('QUERY_SYNTAX');
  });
});

describe('POST /api/search/image', () => {
  const fixture = () => lib.images.find((i) => i.format === 'png')!;

  it('finds the uploaded image itself first (multipart)', async () => {
    const bytes = await readFile(path.join(lib.root, fixture().rel));
    const form = new FormData();
    form.append('image', new File([bytes], 'query.png', { type: 'image/png' }));
    const { status, body } = await getJson('/api/search/image?k=3&threshold=-1', { method: 'POST', body: form });
    expect(status).toBe(200);
    const parsed = SearchResponseSchema.parse(body);
    expect(parsed.results[0]!.path).toBe(fixture().rel);
    expect(parsed.results[0]!.score).toBeGreaterThan(0.99);
  });

  it('accepts the raw bytes as the body', async () => {
    const bytes = await readFile(path.join(lib.root, fixture().rel));
    const { status, body } = await getJson('/api/search/image?k=1&threshold=-1', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(status).toBe(200);
    expect(SearchResponseSchema.parse(body).results[0]!.path).toBe(fixture().rel);
  });

  it('trusts the bytes, not the name or declared type', async () => {
    const jpeg = await drawTestImage(3, { width: 120, height: 90, format: 'jpeg' });
    const form = new FormData();
    form.append('image', new File([new Uint8Array(jpeg)], 'notes.txt', { type: 'text/plain' }));
    expect((await app.request('/api/search/image?threshold=-1', { method: 'POST', body: form })).status).toBe(200);

    const text = new FormData();
    text.append('image', new File(['hello, I am not a picture'], 'photo.jpg', { type: 'image/jpeg' }));
    const r = await getJson('/api/search/image', { method: 'POST', body: text });
    expect(r.status).toBe(415);
    expect(r.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'image' });
  });

  it('refuses BMP with a reason, and undecodable images (a HEIC header without data) with 422', async () => {
    const bmp = Buffer.alloc(64);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(40, 14);
    const r1 = await getJson('/api/search/image', { method: 'POST', body: bmp, headers: { 'content-type': 'image/bmp' } });
    expect(r1.status).toBe(415);
    expect(r1.body.error?.message).toMatch(/BMP images cannot be decoded/);
    // HEIC is recognised by the engine's sniffer (the same one the sync uses) and decoded like an indexed file.
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.from([0, 0, 0, 0]), Buffer.from('mif1heic'), Buffer.alloc(64)]);
    const r0 = await getJson('/api/search/image', { method: 'POST', body: heic, headers: { 'content-type': 'image/heic' } });
    expect(r0.status).toBe(422);
    expect(r0.body.error?.code).toBe('IMAGE_DECODE');

    const truncated = new Uint8Array((await drawTestImage(5, { width: 200, height: 150, format: 'jpeg' })).subarray(0, 40));
    const r2 = await getJson('/api/search/image', { method: 'POST', body: truncated, headers: { 'content-type': 'image/jpeg' } });
    expect(r2.status).toBe(422);
    expect(r2.body.error?.code).toBe('IMAGE_DECODE');
    // A complete header, then half the data: it fails while decoding. Either way the message is ours, not libvips'.
    const png = await drawTestImage(6, { width: 300, height: 200, format: 'png' });
    const r3 = await getJson('/api/search/image', { method: 'POST', body: new Uint8Array(png.subarray(0, png.length >> 1)), headers: { 'content-type': 'image/png' } });
    expect(r3.status).toBe(422);
    expect(r3.body.error).toMatchObject({ code: 'IMAGE_DECODE', field: 'image', message: 'image: cannot be decoded (the image data is truncated)' });
    for (const r of [r2, r3]) expect(r.body.error?.message).not.toMatch(/vips|libpng|libjpeg|premature|\n/i);
  });

  it('refuses a query image of more than 40 megapixels from its header, before decoding it (413)', async () => {
    // A small PNG (tens of KB) declaring 16383 × 16383: 268 megapixels once decoded.
    const huge = new Uint8Array(bombPng(16383, 16383));
    let decoded = 0;
    const counting = Object.create(lib.engine, {
      searchByImage: { value: (...args: Parameters<EngineLike['searchByImage']>) => (decoded++, lib.engine.searchByImage(...args)) },
    }) as EngineLike;
    const guarded = createApp(counting);
    const res = await guarded.request('/api/search/image', { method: 'POST', body: huge, headers: { 'content-type': 'image/png' } });
    expect(res.status).toBe(413);
    const body = (await res.json()) as Json;
    expect(body.error).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'image' });
    expect(body.error?.message).toMatch(/16383×16383 .* at most 40 megapixels/);
    expect(decoded).toBe(0);
    // An ordinary photo-sized upload still goes through.
    const ok = await guarded.request('/api/search/image?threshold=-1', { method: 'POST', body: new Uint8Array(await drawTestImage(7, { width: 640, height: 480, format: 'jpeg' })), headers: { 'content-type': 'image/jpeg' } });
    expect(ok.status).toBe(200);
    expect(decoded).toBe(1);
    await guarded.shutdown();
  });

  it('runs uploads in their own lane: text searches never wait for uploads being decoded', async () => {
    // Uploads held inside the engine until the test lets them go: a text search must still be answered.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const uploadEntered = new Promise<void>((resolve) => (entered = resolve));
    const held = Object.create(lib.engine, {
      searchByImage: {
        value: async (...args: Parameters<EngineLike['searchByImage']>) => {
          entered();
          await gate;
          return lib.engine.searchByImage(...args);
        },
      },
    }) as EngineLike;
    const laneApp = createApp(held);
    const photo = new Uint8Array(await drawTestImage(8, { width: 320, height: 240, format: 'jpeg' }));
    const uploads = Array.from({ length: 4 }, () => laneApp.request('/api/search/image', { method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg' } }));
    try {
      await uploadEntered;
      // With one shared lane this request would queue behind the held upload and never be answered.
      const text = await laneApp.request('/api/search?q=a%20red%20square&threshold=-1');
      expect(text.status).toBe(200);
      expect(((await text.json()) as { results: unknown[] }).results.length).toBeGreaterThan(0);
    } finally {
      release();
    }
    for (const r of await Promise.all(uploads)) expect(r.status).toBe(200);
    await laneApp.shutdown();
  }, 30_000);

  it('rejects a missing or empty file field and other content types', async () => {
    const noField = new FormData();
    noField.append('other', 'x');
    const a = await getJson('/api/search/image', { method: 'POST', body: noField });
    expect(a.status).toBe(400);
    expect(a.body.error?.field).toBe('image');

    const notFile = new FormData();
    notFile.append('image', 'just a string');
    expect((await getJson('/api/search/image', { method: 'POST', body: notFile })).body.error?.field).toBe('image');

    const empty = new FormData();
    empty.append('image', new File([], 'e.png', { type: 'image/png' }));
    const c = await getJson('/api/search/image', { method: 'POST', body: empty });
    expect(c.status).toBe(400);
    expect(c.body.error?.field).toBe('image');

    const emptyRaw = await getJson('/api/search/image', { method: 'POST', body: new Uint8Array(0), headers: { 'content-type': 'image/png' } });
    expect(emptyRaw.status).toBe(400);

    const json = await getJson('/api/search/image', { method: 'POST', body: '{"image":"x"}', headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(415);

    const broken = await getJson('/api/search/image', { method: 'POST', body: 'garbage', headers: { 'content-type': 'multipart/form-data; boundary=zzz' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error?.field).toBe('image');
  });

  it('answers 413 beyond the upload limit, declared or streamed', async () => {
    const small = createApp(lib.engine, { maxUploadBytes: 1000 });
    const big = new Uint8Array(5000);
    const declared = await small.request('/api/search/image', { method: 'POST', body: big, headers: { 'content-type': 'image/png', 'content-length': '5000' } });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as Json).error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'image' });

    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(500));
        controller.close();
      },
    });
    const streamed = await small.request('/api/search/image', { method: 'POST', body: stream, headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' }, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);

    const form = new FormData();
    form.append('image', new File([new Uint8Array(1200)], 'big.png', { type: 'image/png' }));
    const multipart = await small.request('/api/search/image', { method: 'POST', body: form });
    expect(multipart.status).toBe(413);
    await small.shutdown();
  });
});

describe('GET /api/images/:id/similar', () => {
  it('ranks other images and leaves the image itself out', async () => {
    const id = idOf(lib.images[2]!.rel);
    const { status, body } = await getJson(`/api/images/${id}/similar?threshold=-1&k=200`);
    expect(status).toBe(200);
    const parsed = SearchResponseSchema.parse(body);
    expect(parsed.results.map((r) => r.id)).not.toContain(id);
    expect(parsed.results).toHaveLength(lib.images.length - 1);
  });

  it('answers 404 for an unknown id and 400 for a bad one', async () => {
    expect((await getJson('/api/images/987654/similar')).status).toBe(404);
    const bad = await getJson('/api/images/abc/similar');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.field).toBe('id');
  });
});

describe('GET /api/images/:id', () => {
  it('streams each original with its content type, length, ETag and caching headers', async () => {
    const mimes: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff' };
    const seen = new Set<string>();
    for (const img of lib.images) {
      if (seen.has(img.format)) continue;
      seen.add(img.format);
      const id = idOf(img.rel);
      const res = await app.request(`/api/images/${id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(mimes[img.format]);
      const body = new Uint8Array(await res.arrayBuffer());
      const file = await readFile(path.join(lib.root, img.rel));
      expect(Buffer.from(body).equals(file)).toBe(true);
      expect(res.headers.get('content-length')).toBe(String(file.length));
      expect(res.headers.get('etag')).toMatch(/^"[0-9a-z-]+"$/);
      expect(res.headers.get('cache-control')).toBe('private, no-cache');
      expect(res.headers.get('last-modified')).toBeTruthy();
      expect(res.headers.get('content-security-policy')).toContain('sandbox');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(seen.size).toBe(5);
  });

  it('answers 304 to a matching If-None-Match and HEAD without a body', async () => {
    const id = idOf(lib.images[0]!.rel);
    const first = await app.request(`/api/images/${id}`);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await app.request(`/api/images/${id}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    const other = await app.request(`/api/images/${id}`, { headers: { 'if-none-match': '"nope"' } });
    expect(other.status).toBe(200);
    await other.arrayBuffer();

    const head = await app.request(`/api/images/${id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('names the file in Content-Disposition, safely', async () => {
    const hostile = lib.images.find((i) => i.rel.includes('<img'))!;
    const res = await app.request(`/api/images/${idOf(hostile.rel)}`);
    await res.arrayBuffer();
    const cd = res.headers.get('content-disposition')!;
    expect(cd).toMatch(/^inline; filename="[^"]*"; filename\*=UTF-8''/);
    expect(cd).toContain(encodeURIComponent(path.basename(hostile.rel)));
  });

  it('does not serve a file swapped for a non-image since the sync (e.g. a symlink to a secret)', async () => {
    const img = lib.images[3]!;
    const id = idOf(img.rel);
    const file = path.join(lib.root, img.rel);
    const bytes = await readFile(file);
    const secret = path.join(lib.dir, 'secret.txt');
    await writeFile(secret, 'TOP-SECRET-CONTENT');
    await rm(file);
    await symlink(secret, file);
    try {
      const res = await app.request(`/api/images/${id}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('TOP-SECRET');
    } finally {
      await rm(file);
      await writeFile(file, bytes);
    }
  });

  it('answers 404 for unknown ids and for files gone from disk', async () => {
    expect((await getJson('/api/images/424242')).status).toBe(404);
    const img = lib.images[lib.images.length - 2]!;
    const id = idOf(img.rel);
    const file = path.join(lib.root, img.rel);
    const bytes = await readFile(file);
    await rm(file);
    try {
      const gone = await getJson(`/api/images/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.error?.code).toBe('NOT_FOUND');
    } finally {
      await writeFile(file, bytes);
    }
  });
});

describe('files swapped for a FIFO since the sync', () => {
  it('answer 404 at once (originals and thumbnails), and everything else keeps being served', async () => {
    // More FIFOs than libuv has pool threads (4): one blocking open each would stall the server.
    const swapped = lib.images.slice(0, 6);
    const saved = await Promise.all(swapped.map((img) => readFile(path.join(lib.root, img.rel))));
    for (const img of swapped) {
      await rm(path.join(lib.root, img.rel));
      execFileSync('mkfifo', [path.join(lib.root, img.rel)]);
    }
    // An empty thumbnail cache: every thumbnail must be made from the (swapped) original.
    const fresh = createApp(lib.engine, { thumbnailDir: path.join(lib.dir, 'fifo-thumbnails') });
    const req = async (url: string) => {
      const res = await fresh.request(url);
      return { status: res.status, body: (await res.json()) as Json };
    };
    try {
      const ids = swapped.map((img) => idOf(img.rel));
      const originals = await Promise.all(ids.map((id) => req(`/api/images/${id}`)));
      const thumbs = await Promise.all(ids.map((id) => req(`/api/images/${id}/thumbnail?size=256`)));
      for (const r of [...originals, ...thumbs]) {
        expect(r.status).toBe(404);
        expect(r.body.error?.code).toBe('NOT_FOUND');
      }
      expect((await fresh.request('/api/status')).status).toBe(200);
      const other = lib.images[swapped.length]!;
      const ok = await fresh.request(`/api/images/${idOf(other.rel)}`);
      expect(ok.status).toBe(200);
      expect((await ok.arrayBuffer()).byteLength).toBeGreaterThan(0);
      expect((await fresh.request(`/api/images/${idOf(other.rel)}/thumbnail?size=256`)).status).toBe(200);
      // A zip of a swapped image and a good one: the swapped one is listed as missing, the zip completes.
      const zip = await fresh.request(`/api/zip?ids=${ids[0]},${idOf(other.rel)}`);
      expect(zip.status).toBe(200);
      const zipBytes = Buffer.from(await zip.arrayBuffer());
      expect(zipBytes.includes(Buffer.from('MISSING.txt'))).toBe(true);
    } finally {
      await fresh.shutdown();
      for (const [i, img] of swapped.entries()) {
        await rm(path.join(lib.root, img.rel));
        await writeFile(path.join(lib.root, img.rel), saved[i]!);
      }
    }
  });
});

describe('GET /api/images/:id/thumbnail', () => {
  it('serves WebP thumbnails bounded by the size, never enlarged', async () => {
    const img = lib.images.find((i) => i.width === 800)!;
    const id = idOf(img.rel);
    for (const size of [128, 256, 512]) {
      const res = await app.request(`/api/images/${id}/thumbnail?size=${size}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width!, meta.height!)).toBe(size);
      expect(meta.width! / meta.height!).toBeCloseTo(img.width / img.height, 1);
    }
    const small = lib.images.find((i) => i.width === 400)!;
    const res = await app.request(`/api/images/${idOf(small.rel)}/thumbnail?size=512`);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([400, 300]);
  });

  it('defaults to 256 and answers 304 on a matching ETag', async () => {
    const id = idOf(lib.images[1]!.rel);
    const res = await app.request(`/api/images/${id}/thumbnail`);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBe(256);
    const etag = res.headers.get('etag')!;
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    const again = await app.request(`/api/images/${id}/thumbnail?size=256`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('caches thumbnails on disk under the data directory: written once, served after the original is gone', async () => {
    const img = lib.images[4]!;
    const id = idOf(img.rel);
    const thumbs = path.join(lib.dataDir, 'thumbnails', '128');
    // Concurrent requests for a thumbnail nobody asked for yet share one generation.
    const responses = await Promise.all(Array.from({ length: 6 }, () => app.request(`/api/images/${id}/thumbnail?size=128`)));
    const bodies = await Promise.all(responses.map(async (r) => Buffer.from(await r.arrayBuffer())));
    for (const b of bodies) expect(b.equals(bodies[0]!)).toBe(true);
    const files = (await readdir(thumbs, { recursive: true })).filter((f) => f.endsWith('.webp') || f.includes('.tmp'));
    const version = lib.engine.getImage(id)!.hash.slice(0, 32);
    expect(files).toContain(path.join(version.slice(0, 2), `${version}.webp`));
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
    const cached = path.join(thumbs, version.slice(0, 2), `${version}.webp`);
    const before = await stat(cached);

    const file = path.join(lib.root, img.rel);
    const original = await readFile(file);
    await rm(file);
    try {
      const res = await app.request(`/api/images/${id}/thumbnail?size=128`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(bodies[0]!)).toBe(true);
      const after = await stat(cached);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(after.ino).toBe(before.ino);
      // A rendition not cached yet cannot be made without the original.
      expect((await app.request(`/api/images/${id}/display`)).status).toBe(404);
    } finally {
      await writeFile(file, original);
    }
  });
});

describe('status, sync and events', () => {
  it('GET /api/status reports the library', async () => {
    const { status, body } = await getJson('/api/status');
    expect(status).toBe(200);
    const s = StatusSchema.parse(body);
    expect(s.images.indexed).toBe(lib.images.length);
    expect(s.indexSize).toBe(lib.images.length);
    expect(s.roots).toEqual([lib.root]);
    expect(s.backend).toBe('auto');
    expect(s.model).not.toBe('');
    expect(s.dimension).toBeGreaterThan(0);
    expect(s.lastSync).not.toBeNull();
    expect(s.sync.running).toBe(false);
    expect(s.limits.maxK).toBe(200);
  });

  it('runs one sync at a time (409 for the second) and streams progress over SSE', async () => {
    // New work for the sync: two more images and one broken file.
    await writeFile(path.join(lib.root, 'new-a.png'), await drawTestImage(40, { width: 300, height: 200, format: 'png' }));
    await writeFile(path.join(lib.root, 'new-b.jpg'), await drawTestImage(41, { width: 200, height: 300, format: 'jpeg' }));
    await writeFile(path.join(lib.root, 'broken.jpg'), 'not really a jpeg');

    const events = await app.request('/api/sync/events');
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toBe('text/event-stream');
    const sse = readSse(events.body!);
    const first = await sse.next();
    expect(first.event).toBe('state');
    expect(JSON.parse(first.data)).toMatchObject({ running: false });

    const [a, b] = await Promise.all([app.request('/api/sync', { method: 'POST' }), app.request('/api/sync', { method: 'POST' })]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([202, 409]);
    const started = a.status === 202 ? a : b;
    const conflict = a.status === 409 ? a : b;
    SyncStartedSchema.parse(await started.json());
    expect(((await conflict.json()) as Json).error?.code).toBe('SYNC_RUNNING');

    const phases = new Set<string>();
    let done: Record<string, unknown> | undefined;
    while (!done) {
      const ev = await sse.next();
      if (ev.event === 'progress') phases.add((JSON.parse(ev.data) as { phase: string }).phase);
      else if (ev.event === 'done') done = JSON.parse(ev.data) as Record<string, unknown>;
      else if (ev.event === 'error') throw new Error(`sync failed: ${ev.data}`);
    }
    expect(done).toMatchObject({ added: 2, skipped: 1, aborted: false });
    expect(phases.has('scan')).toBe(true);
    expect(phases.has('done')).toBe(true);

    // A heartbeat comment arrives while idle.
    expect(await sse.nextComment()).toBe('ping');
    await sse.cancel();

    const s = StatusSchema.parse((await getJson('/api/status')).body);
    expect(s.images.indexed).toBe(lib.images.length + 2);
    expect(s.sync.running).toBe(false);
    expect(s.sync.lastSummary).toMatchObject({ added: 2 });
    expect(s.skippedTotal).toBe(1);
    expect(s.skipped[0]).toMatchObject({ path: 'broken.jpg' });
    // A sync with nothing to do: followed to its `done` event (no polling), so the engine is idle for later tests.
    const again = readSse((await app.request('/api/sync/events')).body!);
    expect((await again.next()).event).toBe('state');
    expect((await getJson('/api/sync', { method: 'POST' })).status).toBe(202);
    let idle: Record<string, unknown> | undefined;
    while (!idle) {
      const ev = await again.next();
      if (ev.event === 'done') idle = JSON.parse(ev.data) as Record<string, unknown>;
      else if (ev.event === 'error') throw new Error(`sync failed: ${ev.data}`);
    }
    await again.cancel();
    expect(idle).toMatchObject({ added: 0, updated: 0, removed: 0, unchanged: lib.images.length + 2, skipped: 1, aborted: false });
    expect(lib.engine.isSyncing).toBe(false);
  });
});

describe('/api/local/* (the owner\'s CLI)', () => {
  const secret = 's'.repeat(43);
  let owned: PixsearchApp;
  beforeAll(() => {
    owned = createApp(lib.engine, { ownerSecret: secret });
  });
  afterAll(async () => {
    await owned?.shutdown();
  });
  /** A request to the owned app with `key` as the owner secret (`null`: none). */
  const local = (route: string, init: RequestInit = {}, key: string | null = secret) =>
    owned.request(route, { ...init, headers: { ...(key === null ? {} : { 'x-pixsearch-secret': key }), 'content-type': 'application/json' } });

  it('answers only with the owner secret, in the shapes the OpenAPI document gives', async () => {
    expect((await local('/api/local/hello', {}, null)).status).toBe(403);
    expect((await local('/api/local/hello', {}, 'x'.repeat(43))).status).toBe(403);
    const hello = LocalHelloSchema.parse(await (await local('/api/local/hello')).json());
    expect(hello.pid).toBe(process.pid);

    const query = await local('/api/local/query', { method: 'POST', body: JSON.stringify({ op: 'search', query: 'a photo', options: { k: 3, threshold: -1 } }) });
    expect(query.status).toBe(200);
    const res = LocalSearchResponseSchema.parse(await query.json());
    expect(res.results).toHaveLength(3);
    const similar = await local('/api/local/query', { method: 'POST', body: JSON.stringify({ op: 'similar', id: res.results[0]!.id, options: { k: 2, threshold: -1 } }) });
    expect(LocalSearchResponseSchema.parse(await similar.json()).results.map((r) => r.id)).not.toContain(res.results[0]!.id);
    const bad = await local('/api/local/query', { method: 'POST', body: JSON.stringify({ op: 'delete' }) });
    expect(bad.status).toBe(400);

    const started = await local('/api/local/sync', { method: 'POST', body: '{}' });
    expect(started.status).toBe(202);
    const body = LocalSyncStartedSchema.parse(await started.json());
    expect(body.sync.trigger).toBe('cli');
    expect(body.sync.id).toBe(body.syncId);
    // Runs after the CLI's sync, i.e. resolves once both are over: nothing is left running for the next tests.
    await owned.requestSync('api');
  });
});

describe('description and page', () => {
  it('serves an OpenAPI 3.1 document generated from the validators', async () => {
    const { status, body } = await getJson('/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const paths = body.paths as Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[] }>>;
    expect(Object.keys(paths).sort()).toEqual(
      [
        '/api/browse',
        '/api/duplicates',
        '/api/facets',
        '/api/images/{id}',
        '/api/images/{id}/display',
        '/api/images/{id}/info',
        '/api/images/{id}/similar',
        '/api/images/{id}/thumbnail',
        '/api/local/hello',
        '/api/local/query',
        '/api/local/sync',
        '/api/zip',
        '/api/openapi.json',
        '/api/search',
        '/api/search/image',
        '/api/search/similar',
        '/api/status',
        '/api/sync',
        '/api/sync/events',
      ].sort(),
    );
    const params = paths['/api/search']!.get!.parameters!;
    expect(params.map((p) => p.name).sort()).toEqual(
      ['camera', 'format', 'from', 'hasLocation', 'k', 'minHeight', 'minWidth', 'offset', 'path', 'q', 'relative', 'sort', 'threshold', 'to'].sort(),
    );
    expect(params.find((p) => p.name === 'q')).toMatchObject({ required: true, in: 'query' });
    expect(params.find((p) => p.name === 'k')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    expect(paths['/api/images/{id}/thumbnail']!.get!.parameters!.find((p) => p.name === 'size')!.schema).toMatchObject({ enum: ['128', '256', '512'] });

    // The CLI's routes, with their own scheme: the per-run owner secret in a header.
    const components = body.components as { securitySchemes: Record<string, Record<string, unknown>> };
    expect(components.securitySchemes.ownerSecret).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-pixsearch-secret' });
    const local = paths as unknown as Record<string, Record<string, { security?: unknown; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, unknown> }>>;
    for (const [p, m] of [['/api/local/hello', 'get'], ['/api/local/query', 'post'], ['/api/local/sync', 'post']] as const) {
      expect(local[p]![m]!.security, p).toEqual([{ ownerSecret: [] }]);
      expect(Object.keys(local[p]![m]!.responses), p).toContain('403');
    }
    expect(JSON.stringify(local['/api/local/query']!.post!.requestBody!.content['application/json']!.schema)).toContain('"similar"');
    expect(Object.keys(local['/api/local/sync']!.post!.responses)).toEqual(expect.arrayContaining(['202', '409']));
  });

  it('serves the page and its assets from memory with cache validators', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    const script = /src="(\/assets\/app\.js\?v=[0-9a-f]+)"/.exec(html)![1]!;
    const css = /href="(\/assets\/style\.css\?v=[0-9a-f]+)"/.exec(html)![1]!;
    const js = await app.request(script);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    const etag = js.headers.get('etag')!;
    expect((await app.request('/assets/app.js', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await app.request(css)).headers.get('content-type')).toContain('text/css');
    expect((await app.request('/assets/nope.js')).status).toBe(404);
    const missing = await getJson('/api/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error?.code).toBe('NOT_FOUND');
  });
});
