// Incremental sync end to end: the generated tiny CLIP model through the real ClipEmbedder (wrapped
// in a counting spy), real images written with sharp, the real SQLite catalog and FAISS index.
import { copyFile, mkdir, readdir, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClosedError, NotFoundError, SyncInProgressError, type Embedder } from '@pixsearch/core';
import { SearchEngine, type SyncProgress, type SyncSummary } from '@pixsearch/core/engine';
import { clipEmbedder, registerFaiss, removeDir, SpyEmbedder, tempDir, tinyBundle } from './engine-helpers.js';
import { writeTestImage, writeTestImages } from '@pixsearch/core/testing';

let dir: string;
let clip: Embedder;
let spy: SpyEmbedder;

beforeAll(async () => {
  await registerFaiss();
  dir = await tempDir();
  clip = await clipEmbedder(await tinyBundle());
  spy = new SpyEmbedder(clip);
});
afterAll(async () => {
  await clip?.close();
  await removeDir(dir);
});

const counts = (s: SyncSummary) => ({ added: s.added, updated: s.updated, moved: s.moved, removed: s.removed, unchanged: s.unchanged, skipped: s.skipped, embedded: s.embedded });

async function openEngine(name: string, roots: string[], extra: Partial<Parameters<typeof SearchEngine.open>[0]> = {}): Promise<SearchEngine> {
  return SearchEngine.open({ dataDir: path.join(dir, name), roots, embedder: spy, batchSize: 4, ...extra });
}

/** Every indexed image's path, from a search that returns them all. */
async function indexedPaths(engine: SearchEngine): Promise<string[]> {
  const res = await engine.search('a photo', { k: 1000, threshold: -1 });
  return res.results.map((r) => r.path).sort();
}

describe('incremental sync', () => {
  test('first sync embeds everything once, in batches, with progress; an unchanged re-sync embeds nothing', async () => {
    const lib = path.join(dir, 'lib1');
    const rels = [
      ...(await writeTestImages(lib, 6, { sub: 'a' })),
      ...(await writeTestImages(lib, 3, { sub: 'a/b/c', ext: 'png', seedBase: 100 })),
      ...(await writeTestImages(lib, 1, { ext: 'webp', seedBase: 200 })),
      ...(await writeTestImages(lib, 1, { ext: 'gif', seedBase: 300 })),
      ...(await writeTestImages(lib, 1, { ext: 'tiff', seedBase: 400 })),
      ...(await writeTestImages(lib, 1, { ext: 'avif', seedBase: 500 })),
    ];
    await writeFile(path.join(lib, 'vector.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="15" fill="red"/></svg>');
    rels.push('vector.svg');
    await writeFile(path.join(lib, 'notes.txt'), 'not an image, not even looked at');
    spy.reset();
    const engine = await openEngine('data1', [lib]);
    const events: SyncProgress[] = [];
    engine.on('progress', (p) => events.push(p));
    const first = await engine.sync();
    expect(counts(first)).toEqual({ added: rels.length, updated: 0, moved: 0, removed: 0, unchanged: 0, skipped: 0, embedded: rels.length });
    expect(first.aborted).toBe(false);
    expect(spy.imagesEmbedded).toBe(rels.length);
    // Batches of batchSize × 4 images per embedder call.
    expect(spy.imageCalls).toBe(Math.ceil(rels.length / 16));
    expect(await indexedPaths(engine)).toEqual([...rels].sort());

    const phases = [...new Set(events.map((e) => e.phase))];
    // The model load is a phase of its own (the display never sits at 0% without saying why).
    expect(phases).toEqual(['scan', 'hash', 'load-model', 'embed', 'done']);
    const embed = events.filter((e) => e.phase === 'embed');
    expect(embed.at(-1)).toMatchObject({ done: rels.length, total: rels.length, etaSeconds: 0, decoded: rels.length, embedded: rels.length });
    // Decoding is reported per image, ahead of the batches it feeds.
    expect(embed.some((e) => (e.decoded ?? 0) > e.done)).toBe(true);
    expect(embed.at(-1)!.rate).toBeGreaterThan(0);
    for (let i = 1; i < embed.length; i++) expect(embed[i]!.done).toBeGreaterThanOrEqual(embed[i - 1]!.done);

    const stats = await engine.stats();
    expect(stats.images).toEqual({ indexed: rels.length, skipped: 0, failed: 0 });
    expect(stats.indexSize).toBe(rels.length);
    expect(stats.model).toBe(clip.modelId);
    expect(stats.dimension).toBe(clip.dimension);
    expect(stats.lastSync).not.toBeNull();
    const svg = (await engine.search('x', { k: 1000, threshold: -1 })).results.find((r) => r.path === 'vector.svg')!;
    expect(svg).toMatchObject({ width: 40, height: 30, format: 'svg', root: lib });

    spy.reset();
    events.length = 0;
    const again = await engine.sync();
    expect(counts(again)).toEqual({ added: 0, updated: 0, moved: 0, removed: 0, unchanged: rels.length, skipped: 0, embedded: 0 });
    expect(spy.imageCalls).toBe(0);
    // Stat-only: nothing needed hashing.
    expect(events.filter((e) => e.phase === 'hash').every((e) => e.total === 0)).toBe(true);
    await engine.close();
  });

  test('a folder with nothing to embed says so: the embed phase ends with embedded 0', async () => {
    const only = path.join(dir, 'only-bad');
    await mkdir(only, { recursive: true });
    await writeFile(path.join(only, 'broken.jpg'), 'not an image');
    const engine = await openEngine('data-nothing', [only]);
    const events: SyncProgress[] = [];
    engine.on('progress', (p) => events.push(p));
    const s = await engine.sync();
    expect(s).toMatchObject({ added: 0, skipped: 1, embedded: 0 });
    const last = events.filter((e) => e.phase === 'embed').at(-1);
    expect(last === undefined || last.embedded === 0).toBe(true);
    await engine.close();
  });

  test('add, modify, touch, rename, move, copy, swap and delete: exactly the new content is embedded', async () => {
    const lib = path.join(dir, 'lib2');
    await writeTestImages(lib, 8);
    const engine = await openEngine('data2', [lib]);
    await engine.sync();
    const idOf = async (rel: string) => (await engine.search('q', { k: 1000, threshold: -1 })).results.find((r) => r.path === rel)?.id;
    const id3 = await idOf('img-3.jpg');
    const id4 = await idOf('img-4.jpg');
    const id5 = await idOf('img-5.jpg');
    expect(id3 && id4 && id5).toBeTruthy();

    // touch: new mtime, same bytes → hashed, not embedded.
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(lib, 'img-0.jpg'), later, later);
    spy.reset();
    let s = await engine.sync();
    expect(counts(s)).toEqual({ added: 0, updated: 0, moved: 0, removed: 0, unchanged: 8, skipped: 0, embedded: 0 });
    expect(spy.imageCalls).toBe(0);

    // modify one, add one, rename one, move one into a subfolder, delete one, copy one, swap two.
    await writeTestImage(path.join(lib, 'img-1.jpg'), 9001);
    await writeTestImage(path.join(lib, 'new.png'), 9002);
    await rename(path.join(lib, 'img-3.jpg'), path.join(lib, 'renamed.jpg'));
    await mkdir(path.join(lib, 'sub'));
    await rename(path.join(lib, 'img-4.jpg'), path.join(lib, 'sub', 'img-4.jpg'));
    await rm(path.join(lib, 'img-2.jpg'));
    await copyFile(path.join(lib, 'img-6.jpg'), path.join(lib, 'copy-of-6.jpg'));
    const five = await readFile(path.join(lib, 'img-5.jpg'));
    const seven = await readFile(path.join(lib, 'img-7.jpg'));
    await writeFile(path.join(lib, 'img-5.jpg'), seven);
    await writeFile(path.join(lib, 'img-7.jpg'), five);
    spy.reset();
    s = await engine.sync();
    expect(counts(s)).toEqual({ added: 2, updated: 3, moved: 2, removed: 1, unchanged: 2, skipped: 0, embedded: 2 });
    expect(spy.imagesEmbedded).toBe(2);
    expect(spy.inputs.map((p) => path.basename(String(p))).sort()).toEqual(['img-1.jpg', 'new.png']);
    expect(await indexedPaths(engine)).toEqual(['copy-of-6.jpg', 'img-0.jpg', 'img-1.jpg', 'img-5.jpg', 'img-6.jpg', 'img-7.jpg', 'new.png', 'renamed.jpg', 'sub/img-4.jpg']);
    // Renamed and moved images keep their ids; swapped files keep theirs too (the content moved, not the file).
    expect(await idOf('renamed.jpg')).toBe(id3);
    expect(await idOf('sub/img-4.jpg')).toBe(id4);
    expect(await idOf('img-5.jpg')).toBe(id5);
    expect(engine.getImage(id3!)).toMatchObject({ path: 'renamed.jpg', absPath: path.join(lib, 'renamed.jpg'), status: 'indexed' });
    // A swapped file's embedding follows its content: img-5.jpg now finds what img-7.jpg was.
    const asSeven = await engine.searchByImage(path.join(lib, 'img-5.jpg'), { k: 1, threshold: -1 });
    expect(asSeven.results[0]).toMatchObject({ path: 'img-5.jpg', id: id5 });
    expect(asSeven.results[0]!.score).toBeGreaterThan(0.999);
    const stats = await engine.stats();
    expect(stats.indexSize).toBe(9);

    spy.reset();
    s = await engine.sync();
    expect(s.embedded).toBe(0);
    expect(s.unchanged).toBe(9);
    await engine.close();
    expect(engine.getImage.bind(engine, 1)).toThrow(ClosedError);
  });

  test('duplicates in a first sync are embedded once, within a chunk and across chunks', async () => {
    const lib = path.join(dir, 'lib-dup');
    const rels = await writeTestImages(lib, 20);
    // Copies land in the same chunk as their original (dup-a…) and in later chunks (zz-…): walk order is not guaranteed either way.
    for (let i = 0; i < 6; i++) await copyFile(path.join(lib, rels[i]!), path.join(lib, `dup-a${i}.jpg`));
    for (let i = 0; i < 6; i++) await copyFile(path.join(lib, rels[19 - i]!), path.join(lib, `zz-${i}.jpg`));
    const engine = await openEngine('data-dup', [lib]);
    spy.reset();
    const s = await engine.sync();
    expect(counts(s)).toEqual({ added: 32, updated: 0, moved: 0, removed: 0, unchanged: 0, skipped: 0, embedded: 20 });
    expect(spy.imagesEmbedded).toBe(20);
    const all = (await engine.search('x', { k: 100, threshold: -1 })).results;
    expect(all).toHaveLength(32);
    // A copy has exactly its original's embedding.
    const sim = await engine.similar(all.find((r) => r.path === 'zz-0.jpg')!.id, { k: 1, threshold: -1 });
    expect(sim.results[0]).toMatchObject({ path: rels[19] });
    expect(sim.results[0]!.score).toBeCloseTo(1, 5);
    await engine.close();
  });

  test('an indexed file that becomes unreadable or corrupt leaves the index; fixed, it comes back', async () => {
    const lib = path.join(dir, 'lib-corrupt');
    await writeTestImages(lib, 3);
    const engine = await openEngine('data-corrupt', [lib]);
    await engine.sync();
    await writeFile(path.join(lib, 'img-1.jpg'), 'oops, overwritten with text');
    let s = await engine.sync();
    expect(s.skippedFiles.map((f) => [f.path, f.reason])).toEqual([['img-1.jpg', 'not-an-image']]);
    expect((await engine.stats()).indexSize).toBe(2);
    expect((await indexedPaths(engine))).toEqual(['img-0.jpg', 'img-2.jpg']);
    await writeTestImage(path.join(lib, 'img-1.jpg'), 77);
    s = await engine.sync();
    expect(s.updated).toBe(1);
    expect((await engine.stats()).indexSize).toBe(3);
    await engine.close();
  });

  test('hidden folders, junk folders, ignore globs, symlink loops and the data directory are skipped; symlinked files are followed', async () => {
    const lib = path.join(dir, 'lib3');
    await writeTestImages(lib, 2);
    for (const junk of ['.git', '@eaDir', 'node_modules', '.Trash-1000', '#recycle', 'cache']) await writeTestImages(path.join(lib, junk), 1, { seedBase: 50 });
    await writeTestImage(path.join(lib, '.hidden.jpg'), 60);
    await writeTestImage(path.join(lib, 'keep', 'draft.tmp.jpg'), 61);
    await writeTestImage(path.join(lib, 'keep', 'photo.jpg'), 62);
    await symlink(lib, path.join(lib, 'keep', 'loop'));
    await symlink(path.join(lib, 'keep', 'photo.jpg'), path.join(lib, 'link-to-photo.jpg'));
    const outside = path.join(dir, 'outside3');
    await writeTestImages(outside, 1, { seedBase: 70 });
    await symlink(outside, path.join(lib, 'linked-dir'));
    const engine = await openEngine(path.join('lib3', 'data-inside-root'), [lib], { ignore: ['cache/**', '**/*.tmp.jpg'] });
    const s = await engine.sync();
    expect(await indexedPaths(engine)).toEqual(['img-0.jpg', 'img-1.jpg', 'keep/photo.jpg', 'link-to-photo.jpg', 'linked-dir/img-0.jpg']);
    // The symlinked copy has the same content: it reused the embedding.
    expect(s.embedded).toBe(4);
    await engine.close();
  });

  test('roots: add later, nested roots merge without re-embedding, a missing root keeps its images, removeRoot', async () => {
    const a = path.join(dir, 'lib4', 'a');
    const inner = path.join(a, 'inner');
    await writeTestImages(inner, 3);
    const engine = await openEngine('data4', [inner]);
    await engine.sync();
    const before = (await engine.search('q', { k: 100, threshold: -1 })).results;
    // Adding the parent absorbs the inner root: same ids, paths now relative to the parent, no embedding.
    await writeTestImages(a, 1, { seedBase: 10 });
    spy.reset();
    let s = await engine.sync({ roots: [a] });
    expect(s.embedded).toBe(1);
    expect(s.added).toBe(1);
    expect((await engine.stats()).roots).toEqual([a]);
    const after = (await engine.search('q', { k: 100, threshold: -1 })).results;
    for (const hit of before) expect(after.find((h) => h.id === hit.id)?.path).toBe(`inner/${hit.path}`);
    // A folder inside an existing root is that root.
    s = await engine.sync({ roots: [inner] });
    expect(s.unchanged).toBe(4);
    // A second, separate root.
    const b = path.join(dir, 'lib4', 'b');
    await writeTestImages(b, 2, { seedBase: 20 });
    s = await engine.sync({ roots: [b] });
    expect(s.added).toBe(2);
    expect((await engine.stats()).roots).toEqual([a, b]);
    // A root that vanished (unmounted disk) keeps its images, with a warning.
    const warnings: string[] = [];
    engine.on('warning', (w) => warnings.push(w));
    await rename(b, b + '-away');
    s = await engine.sync();
    expect(s.removed).toBe(0);
    expect(warnings.some((w) => w.includes(b))).toBe(true);
    expect((await engine.stats()).images.indexed).toBe(6);
    await rename(b + '-away', b);
    expect(await engine.removeRoot(b)).toBe(2);
    expect((await engine.stats()).indexSize).toBe(4);
    await expect(engine.removeRoot(b)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine.sync({ roots: [path.join(dir, 'no-such-folder')] })).rejects.toBeInstanceOf(NotFoundError);
    await engine.close();
  });

  test('abort keeps committed batches and the next sync finishes the rest; concurrent syncs are refused; close() stops a sync', async () => {
    const lib = path.join(dir, 'lib5');
    await writeTestImages(lib, 40);
    const engine = await openEngine('data5', [lib]);
    const controller = new AbortController();
    spy.reset();
    // Abort right after the first batch is embedded (batchSize 4 → chunks of 16): it is committed, the rest is not started.
    spy.afterImageCall = (call) => {
      if (call === 1) controller.abort();
    };
    const running = engine.sync({ signal: controller.signal });
    expect(engine.isSyncing).toBe(true);
    await expect(engine.sync()).rejects.toBeInstanceOf(SyncInProgressError);
    const first = await running;
    expect(engine.isSyncing).toBe(false);
    expect(first.aborted).toBe(true);
    expect(first.added).toBe(16);
    expect(spy.imageCalls).toBe(1);
    expect((await engine.stats()).lastSync).toBeNull();
    const committed = first.added;
    spy.reset();
    const second = await engine.sync();
    expect(second.aborted).toBe(false);
    expect(second.added).toBe(40 - committed);
    expect(spy.imagesEmbedded).toBe(40 - committed);

    await writeTestImages(lib, 20, { seedBase: 1000, sub: 'more' });
    spy.reset();
    // close() lands right after the first of two batches (16 + 4 new images).
    let closing: Promise<void> | undefined;
    spy.afterImageCall = (call) => {
      if (call === 1) closing = engine.close();
    };
    const third = await engine.sync();
    expect(third.aborted).toBe(true);
    expect(third.added).toBe(16);
    // The engine lets go of the data directory when close() resolves (after the sync has ended).
    await closing;
    await expect(engine.sync()).rejects.toBeInstanceOf(ClosedError);
    // The closed engine saved what it committed: a reopened one continues from there.
    const reopened = await openEngine('data5', [lib]);
    spy.reset();
    const fourth = await reopened.sync();
    expect(fourth.added).toBe(20 - third.added);
    expect((await reopened.stats()).indexSize).toBe(60);
    await reopened.close();
  });

  test('leftovers of an interrupted index save (folders and temporary files) are removed when a writer opens', async () => {
    const lib = path.join(dir, 'lib-leftovers');
    await writeTestImages(lib, 3);
    const first = await openEngine('data-leftovers', [lib]);
    await first.sync();
    await first.close();
    const indexDir = path.join(dir, 'data-leftovers', 'index');
    const kept = (await readdir(indexDir)).sort();
    await mkdir(path.join(indexDir, 'faiss-flat-999-deadbeef'), { recursive: true });
    await writeFile(path.join(indexDir, 'faiss-flat-999-deadbeef', 'index.x.bin'), Buffer.alloc(1024));
    await writeFile(path.join(indexDir, '.current.json.tmp-1234'), '{');
    // A reader leaves them alone (a writer may be saving right now).
    const reader = await SearchEngine.open({ dataDir: path.join(dir, 'data-leftovers'), readOnly: true, embedder: spy });
    await reader.close();
    expect((await readdir(indexDir)).length).toBe(kept.length + 2);
    const writer = await openEngine('data-leftovers', [lib]);
    expect((await readdir(indexDir)).sort()).toEqual(kept);
    expect((await writer.stats()).indexSize).toBe(3);
    await writer.close();
  });
});

