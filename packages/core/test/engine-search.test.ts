// Search end to end with the generated tiny CLIP model: text, image, similar, combined terms,
// pagination and filters; model changes; backend switches and corrupt indexes rebuilt from the
// stored embeddings without running the model.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AbortedError,
  ClosedError,
  ImageDecodeError,
  InvalidArgumentError,
  ModelMismatchError,
  NotFoundError,
  QuerySyntaxError,
  type Embedder,
} from '@pixsearch/core';
import { SearchEngine, type SearchResponse } from '@pixsearch/core/engine';
import { IndexStore } from '../src/engine/index-store.js';
import { knn } from '../src/engine/search.js';
import { SqliteCatalog } from '../src/engine/sqlite-catalog.js';
import { clipEmbedder, PixelEmbedder, registerFaiss, removeDir, SpyEmbedder, tempDir, tinyBundle } from './engine-helpers.js';
import { writeTestImage, writeTestImages } from '@pixsearch/core/testing';

let dir: string;
let bundle: string;
let clip: Embedder;
let spy: SpyEmbedder;
let lib: string;
let dataDir: string;
let engine: SearchEngine;
const N = 40;

beforeAll(async () => {
  await registerFaiss();
  dir = await tempDir();
  bundle = await tinyBundle();
  clip = await clipEmbedder(bundle);
  spy = new SpyEmbedder(clip);
  lib = path.join(dir, 'lib');
  await writeTestImages(lib, 20, { sub: 'holidays/2019' });
  await writeTestImages(lib, 12, { sub: 'holidays/2020', seedBase: 100, ext: 'png' });
  await writeTestImages(lib, 8, { sub: 'work', seedBase: 200 });
  await writeFile(path.join(lib, 'broken.jpg'), 'not an image');
  dataDir = path.join(dir, 'data');
  engine = await SearchEngine.open({ dataDir, roots: [lib], embedder: spy });
  await engine.sync();
});
afterAll(async () => {
  await engine?.close();
  await clip?.close();
  await removeDir(dir);
});

const dot = (a: Float32Array, b: Float32Array, bo = 0): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[bo + i]!;
  return s;
};
const ids = (r: SearchResponse): number[] => r.results.map((h) => h.id);

describe('text search', () => {
  test('top-k by cosine, best first, with the catalog fields and timings', async () => {
    const res = await engine.search('a dog on a bench', { threshold: -1 });
    expect(res.results).toHaveLength(30);
    // Exact total even though the page needed only 30 hits (a counting pass over the index).
    expect(res.total).toBe(N);
    expect((await engine.search('a dog on a bench', { threshold: -1, k: 50 })).total).toBe(N);
    for (let i = 1; i < res.results.length; i++) expect(res.results[i - 1]!.score).toBeGreaterThanOrEqual(res.results[i]!.score);
    const top = res.results[0]!;
    expect(top.root).toBe(lib);
    expect(top.width).toBe(48);
    expect(top.height).toBe(40);
    expect(['jpeg', 'png']).toContain(top.format);
    // The score is the cosine of the text and image embeddings.
    const [t] = [await clip.embedTexts(['a dog on a bench'])];
    const img = await clip.embedImages([path.join(lib, top.path)]);
    expect(top.score).toBeCloseTo(dot(t!, img.vectors), 4);
    expect(res.timings.total).toBeGreaterThanOrEqual(res.timings.search);
    expect(Object.keys(res.timings).sort()).toEqual(['catalog', 'embed', 'search', 'total']);
  });

  test('queries in flight together share text-tower runs, each with its own ranking; an aborted one never runs', async () => {
    const texts = ['a lighthouse at dusk', 'two horses in a field', 'a bowl of ramen', 'snow on a red roof'];
    // References, one query at a time: the same words in capitals (the tokenizer lowercases, so the
    // model sees the same tokens) are other cache keys, so these run the model each.
    const alone: SearchResponse[] = [];
    for (const t of texts) alone.push(await engine.search(t.toUpperCase(), { k: 10, threshold: -1 }));
    const before = spy.textCalls;
    // Sent together: the first runs alone, the three that queue behind it run as one batch.
    const together = await Promise.all(texts.map((t) => engine.search(t, { k: 10, threshold: -1 })));
    expect(spy.textCalls - before).toBe(2);
    together.forEach((res, i) => {
      expect(res.results).toHaveLength(alone[i]!.results.length);
      // The quantized tower's rows move by ~1e-3 with the batch, so each rank's score by at most that much.
      res.results.forEach((h, r) => expect(Math.abs(h.score - alone[i]!.results[r]!.score)).toBeLessThan(0.02));
    });
    await expect(engine.search('a cat on a wall', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect(spy.textCalls - before).toBe(2);
  });

  test('pagination: offset pages tile the ranking', async () => {
    const all = await engine.search('sunset', { k: N, threshold: -1 });
    const pages: number[] = [];
    for (let offset = 0; offset < N; offset += 7) pages.push(...ids(await engine.search('sunset', { k: 7, offset, threshold: -1 })));
    expect(pages).toEqual(ids(all));
    expect((await engine.search('sunset', { k: 10, offset: N, threshold: -1 })).results).toEqual([]);
  });

  test('absolute and relative thresholds', async () => {
    const all = await engine.search('sunset', { k: N, threshold: -1 });
    const scores = all.results.map((r) => r.score);
    const mid = scores[Math.floor(N / 2)]!;
    const above = await engine.search('sunset', { k: N, threshold: mid });
    expect(above.results.every((r) => r.score >= mid)).toBe(true);
    expect(above.results.length).toBe(scores.filter((s) => s >= mid).length);
    expect(above.total).toBe(above.results.length);
    const best = scores[0]!;
    const rel = (best - scores[5]!) / 2;
    const near = await engine.search('sunset', { k: N, threshold: -1, relativeThreshold: rel });
    expect(near.results.length).toBe(scores.filter((s) => s >= best - rel).length);
    expect(near.results.length).toBeLessThan(6);
    // The default absolute threshold is 0.1.
    const dflt = await engine.search('sunset', { k: N });
    expect(dflt.results.every((r) => r.score >= 0.1)).toBe(true);
    expect(dflt.results.length).toBe(scores.filter((s) => s >= 0.1).length);
  });

  test('path prefix: relative or absolute, exact over the stored embeddings', async () => {
    const all = await engine.search('mountains', { k: N, threshold: -1 });
    const under = all.results.filter((r) => r.path.startsWith('holidays/2020/'));
    const res = await engine.search('mountains', { k: 5, threshold: -1, pathPrefix: 'holidays/2020/' });
    expect(ids(res)).toEqual(ids({ ...all, results: under.slice(0, 5) }));
    for (const [i, h] of res.results.entries()) expect(h.score).toBeCloseTo(under[i]!.score, 5);
    expect(res.total).toBe(12);
    const abs = await engine.search('mountains', { k: 5, threshold: -1, pathPrefix: path.join(lib, 'holidays/2020') + '/' });
    expect(ids(abs)).toEqual(ids(res));
    expect((await engine.search('mountains', { pathPrefix: 'nowhere/' })).results).toEqual([]);
  });

  test('the over-fetch path (large prefixes) gives the same hits as the exact scan', async () => {
    const catalog = SqliteCatalog.open(path.join(dataDir, 'catalog.db'), { readOnly: true });
    const store = await IndexStore.open({ dataDir, catalog, readOnly: true, warn: () => undefined }, { backend: 'faiss-flat', params: {} });
    try {
      const q = await clip.embedTexts(['mountains']);
      const roots = new Map(catalog.roots().map((r) => [r.id, r.path]));
      const base = { k: 4, offset: 2, threshold: -1, relativeThreshold: undefined, filter: { pathPrefix: 'holidays/2019/' }, exclude: new Set<number>(), params: undefined };
      const exact = await knn(catalog, store, roots, q, base);
      const fetched = await knn(catalog, store, roots, q, { ...base, prefilterMax: 0 });
      expect(fetched.hits.map((h) => h.image.id)).toEqual(exact.hits.map((h) => h.image.id));
      expect(fetched.hits).toHaveLength(4);
    } finally {
      store.close();
      catalog.close();
    }
  });

  test('an empty library answers without loading a model', async () => {
    const lonely = new SpyEmbedder(new PixelEmbedder());
    const empty = await SearchEngine.open({ dataDir: path.join(dir, 'empty'), embedder: lonely });
    const res = await empty.search('anything');
    expect(res.results).toEqual([]);
    expect(res.total).toBe(0);
    expect(lonely.textCalls).toBe(0);
    await empty.close();
  });

  test('invalid options and queries are typed errors', async () => {
    await expect(engine.search('x', { k: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('x', { k: 1001 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('x', { k: 2.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('x', { offset: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('x', { threshold: 2 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('x', { threshold: Number.NaN })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('x', { relativeThreshold: -0.1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search('')).rejects.toBeInstanceOf(QuerySyntaxError);
    await expect(engine.search('"a" "b"')).rejects.toBeInstanceOf(QuerySyntaxError);
    await expect(engine.search([])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search([{ text: 'a', weight: 0 }])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search([{ text: '  ' }])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.search([{ text: 'a', imageId: 1 } as never])).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('image queries', () => {
  test('searchByImage with a path or the bytes finds the image itself first', async () => {
    const file = path.join(lib, 'work', 'img-3.jpg');
    const byPath = await engine.searchByImage(file, { k: 3, threshold: -1 });
    expect(byPath.results[0]!.path).toBe('work/img-3.jpg');
    expect(byPath.results[0]!.score).toBeGreaterThan(0.999);
    const byBytes = await engine.searchByImage(new Uint8Array(await readFile(file)), { k: 3, threshold: -1 });
    expect(ids(byBytes)).toEqual(ids(byPath));
  });

  test('an unusable query image is an ImageDecodeError', async () => {
    await expect(engine.searchByImage(new TextEncoder().encode('definitely not an image'))).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(engine.searchByImage(new Uint8Array(0))).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(engine.searchByImage(path.join(lib, 'broken.jpg'))).rejects.toBeInstanceOf(ImageDecodeError);
  });

  test('similar(id) uses the stored embedding, excludes the image, and runs no model', async () => {
    const target = (await engine.search('x', { k: 1, threshold: -1, pathPrefix: 'work/' })).results[0]!;
    spy.reset();
    const res = await engine.similar(target.id, { k: N, threshold: -1 });
    expect(spy.imageCalls + spy.textCalls).toBe(0);
    expect(ids(res)).not.toContain(target.id);
    expect(res.results).toHaveLength(N - 1);
    const byImage = await engine.searchByImage(path.join(lib, target.path), { k: N, threshold: -1 });
    expect(ids(res)).toEqual(ids(byImage).filter((id) => id !== target.id));
    await expect(engine.similar(999_999)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine.similar(-1)).rejects.toBeInstanceOf(InvalidArgumentError);
    const skippedId = (await engine.stats()).skipped.length;
    expect(skippedId).toBe(1);
  });
});

describe('combined queries', () => {
  test('weighted sum of normalised term embeddings, renormalised; string and term forms agree', async () => {
    const [a, b, c] = ['beach', 'sunset', 'people'];
    const t = await clip.embedTexts([a!, b!, c!]);
    const d = clip.dimension;
    const q = new Float32Array(d);
    for (let j = 0; j < d; j++) q[j] = 2 * t[j]! + t[d + j]! - 0.5 * t[2 * d + j]!;
    const norm = Math.sqrt(dot(q, q));
    for (let j = 0; j < d; j++) q[j]! /= norm;

    const res = await engine.search([{ text: a!, weight: 2 }, { text: b! }, { text: c!, weight: -0.5 }], { k: 5, threshold: -1 });
    const files = res.results.map((r) => path.join(lib, r.path));
    const imgs = await clip.embedImages(files);
    res.results.forEach((r, i) => expect(r.score).toBeCloseTo(dot(q, imgs.vectors, i * d), 4));
    const parsed = await engine.search('2:"beach" + "sunset" - 0.5:"people"', { k: 5, threshold: -1 });
    expect(ids(parsed)).toEqual(ids(res));
    // Negative weight really subtracts: the ranking differs from the positive terms alone.
    const plain = await engine.search('2:"beach" + "sunset"', { k: N, threshold: -1 });
    expect(ids(plain)).not.toEqual(ids(await engine.search('2:"beach" + "sunset" - 3:"people"', { k: N, threshold: -1 })));
  });

  test('text + image + id terms; ids named in the query are left out; terms that cancel are refused', async () => {
    const base = (await engine.search('x', { k: 1, threshold: -1, pathPrefix: 'work/' })).results[0]!;
    const res = await engine.search([{ imageId: base.id }, { text: 'in winter', weight: 0.5 }, { image: path.join(lib, 'work', 'img-1.jpg'), weight: 0.25 }], { k: N, threshold: -1 });
    expect(ids(res)).not.toContain(base.id);
    expect(res.results).toHaveLength(N - 1);
    const viaString = await engine.search(`id:${base.id} + 0.5:"in winter"`, { k: 3, threshold: -1 });
    expect(viaString.results).toHaveLength(3);
    await expect(engine.search('"sunset" - "sunset"')).rejects.toThrow(/cancel/);
    await expect(engine.search('id:999999 + "a"')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('models, backends and rebuilds', () => {
  test('a library embedded with one model refuses another (ModelMismatchError, read-only too) until re-embedded on purpose', async () => {
    const otherBundle = path.join(dir, 'tiny-16');
    const { generateBundle } = await import('@pixsearch/core/model-generator');
    await generateBundle({ preset: 'tiny', out: otherBundle, seed: 7, overrides: { projectionDim: 16 } });
    const other = await clipEmbedder(otherBundle);
    const otherSpy = new SpyEmbedder(other);
    const libM = path.join(dir, 'lib-m');
    await writeTestImages(libM, 5);
    const dataM = path.join(dir, 'data-m');
    const first = await SearchEngine.open({ dataDir: dataM, roots: [libM], embedder: spy });
    await first.sync();
    await first.close();

    const err = await SearchEngine.open({ dataDir: dataM, embedder: otherSpy }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelMismatchError);
    expect((err as ModelMismatchError).hint).toMatch(/--reembed/);
    await expect(SearchEngine.open({ dataDir: dataM, model: otherBundle, readOnly: true })).rejects.toBeInstanceOf(ModelMismatchError);
    // The library is untouched by the refusal.
    const check = await SearchEngine.open({ dataDir: dataM, embedder: spy, readOnly: true });
    expect((await check.stats()).images.indexed).toBe(5);

    const switched = await SearchEngine.open({ dataDir: dataM, embedder: otherSpy, reembed: true });
    const warnings: string[] = [];
    switched.on('warning', (w) => warnings.push(w));
    expect((await switched.stats()).indexSize).toBe(0);
    expect((await switched.search('x')).results).toEqual([]);
    otherSpy.reset();
    const s = await switched.sync();
    expect(s.updated).toBe(5);
    expect(otherSpy.imagesEmbedded).toBe(5);
    const stats = await switched.stats();
    expect(stats).toMatchObject({ model: other.modelId, dimension: 16, indexSize: 5 });
    expect((await switched.search('x', { threshold: -1 })).results).toHaveLength(5);
    expect(warnings.some((w) => /re-embedded/.test(w))).toBe(true);
    // A reader opened before the switch refuses to search rather than mix the two models.
    await expect(check.search('x', { threshold: -1 })).rejects.toBeInstanceOf(ModelMismatchError);
    await check.close();
    await switched.close();
    await other.close();
  });

  test('the image tower dtype is remembered with the library; another one is a model change', async () => {
    const folder = path.join(dir, 'tiny-dtypes');
    const { generateBundle } = await import('@pixsearch/core/model-generator');
    await generateBundle({ preset: 'tiny', out: folder, variants: ['fp32', 'quantized', 'int8'] });
    const libD = path.join(dir, 'lib-d');
    await writeTestImages(libD, 3);
    const dataD = path.join(dir, 'data-d');
    const first = await SearchEngine.open({ dataDir: dataD, roots: [libD], model: folder, visionDtype: 'int8' });
    expect((await first.sync()).added).toBe(3);
    expect((await first.stats()).model).toBe('pixsearch/generated-tiny#vision=int8,text=quantized');
    await first.close();
    // Reopened without a dtype: the library's int8 tower again (no mismatch, nothing re-embedded).
    const again = await SearchEngine.open({ dataDir: dataD, model: folder });
    expect((await again.search('x', { threshold: -1 })).results).toHaveLength(3);
    expect((await again.sync()).embedded).toBe(0);
    await again.close();
    await expect(SearchEngine.open({ dataDir: dataD, model: folder, visionDtype: 'fp32' })).rejects.toBeInstanceOf(ModelMismatchError);
    const switched = await SearchEngine.open({ dataDir: dataD, model: folder, visionDtype: 'fp32', reembed: true });
    expect((await switched.sync()).updated).toBe(3);
    expect((await switched.stats()).model).toBe('pixsearch/generated-tiny');
    await switched.close();
  });

  test('switching backend or parameters rebuilds from stored embeddings without running the model', async () => {
    const before = await engine.search('harbour', { k: 10, threshold: -1 });
    await engine.close();
    const lonely = new SpyEmbedder(clip);
    const ivf = await SearchEngine.open({ dataDir, embedder: lonely, backend: 'faiss-ivf', backendParams: { nlist: 4 } });
    const warnings: string[] = [];
    ivf.on('warning', (w) => warnings.push(w));
    await new Promise((r) => setImmediate(r));
    expect(warnings.some((w) => /rebuilding the index from 40 stored embeddings/.test(w))).toBe(true);
    expect(lonely.imageCalls).toBe(0);
    const stats = await ivf.stats();
    expect(stats.backend).toBe('faiss-ivf');
    expect(stats.backendParams).toMatchObject({ nlist: 4 });
    expect(stats.indexSize).toBe(N);
    // nprobe = nlist: exact.
    const after = await ivf.search('harbour', { k: 10, threshold: -1, params: { nprobe: 4 } });
    expect(ids(after)).toEqual(ids(before));
    await ivf.close();
    // The catalog remembers the backend: reopening without options keeps IVF and needs no rebuild.
    const again = await SearchEngine.open({ dataDir, embedder: lonely });
    const w2: string[] = [];
    again.on('warning', (w) => w2.push(w));
    await new Promise((r) => setImmediate(r));
    expect(w2).toEqual([]);
    expect((await again.stats()).backend).toBe('faiss-ivf');
    await again.close();
    engine = await SearchEngine.open({ dataDir, embedder: spy, backend: 'faiss-flat', backendParams: {} });
    expect(ids(await engine.search('harbour', { k: 10, threshold: -1 }))).toEqual(ids(before));
  });

  test('a corrupt, missing or foreign index is rebuilt from the catalog with a warning; the model never runs', async () => {
    const before = ids(await engine.search('harbour', { k: 10, threshold: -1 }));
    await engine.close();
    const indexDir = path.join(dataDir, 'index');
    const pointer = JSON.parse(await readFile(path.join(indexDir, 'current.json'), 'utf8')) as { dir: string };
    const dataFiles = (await readdir(path.join(indexDir, pointer.dir))).filter((f) => f.endsWith('.bin'));
    expect(dataFiles.length).toBeGreaterThan(0);
    const lonely = new SpyEmbedder(clip);
    const reopen = async (): Promise<string[]> => {
      const e = await SearchEngine.open({ dataDir, embedder: lonely });
      const warnings: string[] = [];
      e.on('warning', (w) => warnings.push(w));
      await new Promise((r) => setImmediate(r));
      expect(ids(await e.search('harbour', { k: 10, threshold: -1 }))).toEqual(before);
      expect((await e.stats()).indexSize).toBe(N);
      await e.close();
      return warnings;
    };
    // Garbage in a data file (same size: only the checksum can tell).
    const f = path.join(indexDir, pointer.dir, dataFiles[0]!);
    const size = (await readFile(f)).length;
    await writeFile(f, Buffer.alloc(size, 0x5a));
    expect((await reopen()).join('\n')).toMatch(/unusable.*rebuilding the index from 40 stored embeddings/);
    // The rebuilt index was saved: the next open is clean.
    expect(await reopen()).toEqual([]);
    // No index at all.
    await rm(indexDir, { recursive: true });
    expect((await reopen()).join('\n')).toMatch(/no saved index; rebuilding/);
    // A garbled pointer.
    await writeFile(path.join(indexDir, 'current.json'), '{"format": "nope"');
    expect((await reopen()).join('\n')).toMatch(/unreadable/);
    expect(lonely.imageCalls + lonely.textCalls).toBeGreaterThan(0); // only the text queries above
    expect(lonely.imageCalls).toBe(0);
    engine = await SearchEngine.open({ dataDir, embedder: spy });
  });

  test('a closed engine refuses work', async () => {
    const e = await SearchEngine.open({ dataDir: path.join(dir, 'closing'), embedder: spy });
    await e.close();
    await e.close();
    await expect(e.search('x')).rejects.toBeInstanceOf(ClosedError);
    await expect(e.stats()).rejects.toBeInstanceOf(ClosedError);
    await expect(e.sync()).rejects.toBeInstanceOf(ClosedError);
  });
});

test('read-only opening of a library that does not exist is NotFoundError; writers create it', async () => {
  await expect(SearchEngine.open({ dataDir: path.join(dir, 'nothing-here'), readOnly: true })).rejects.toBeInstanceOf(NotFoundError);
  await writeTestImage(path.join(dir, 'single', 'one.jpg'), 5);
  const e = await SearchEngine.open({ dataDir: path.join(dir, 'single-data'), roots: [path.join(dir, 'single')], embedder: spy });
  expect((await e.sync()).added).toBe(1);
  await e.close();
});
