import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, IndexCorruptError, InvalidArgumentError, loadIndex, MANIFEST_FILE, sha256File, type IndexManifest, type VectorIndex } from '@pixsearch/core';
import { COMPACT_FRACTION, FaissFlatIndex } from '../src/index.js';
import { CHUNK_FLOATS } from '../src/faiss-convert.js';
import { bruteForceTopK, randomUnitVectors } from '@pixsearch/core/datasets';
import { clustered, pickRows, seqIds } from './data.js';

let dir: string;
const opened: VectorIndex[] = [];
const flat = (dimension: number, metric: 'cosine' | 'l2' = 'cosine') => {
  const idx = FaissFlatIndex.create({ dimension, metric });
  opened.push(idx);
  return idx;
};
const manifestOf = async (out: string) => JSON.parse(await readFile(path.join(out, MANIFEST_FILE), 'utf8')) as IndexManifest;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-faiss-flat-'));
});
afterAll(async () => {
  for (const idx of opened) await idx.close();
  await rm(dir, { recursive: true, force: true });
});

describe('faiss-flat', () => {
  it('rejects parameters and bad dimensions before touching FAISS', () => {
    expect(() => FaissFlatIndex.create({ dimension: 8, metric: 'cosine', params: { nlist: 4 } })).toThrow(InvalidArgumentError);
    expect(() => FaissFlatIndex.create({ dimension: 0, metric: 'cosine' })).toThrow(InvalidArgumentError);
    expect(() => FaissFlatIndex.create({ dimension: 2.5, metric: 'cosine' })).toThrow(InvalidArgumentError);
    expect(() => FaissFlatIndex.create({ dimension: 8, metric: 'dot' as 'l2' })).toThrow(InvalidArgumentError);
  });

  it('adds in bounded chunks and keeps every id on its own vector across chunk boundaries', async () => {
    const d = 48;
    const n = Math.ceil((3.5 * CHUNK_FLOATS) / d); // spans four chunks
    const base = randomUnitVectors(n, d, 1);
    const idx = flat(d);
    const ids = seqIds(n, 2 ** 33);
    await idx.add(ids.slice(0, 1000), base.subarray(0, 1000 * d));
    await idx.add(ids.slice(1000), base.subarray(1000 * d));
    expect(idx.size).toBe(n);
    const probe = [0, 999, 1000, 1365, 1366, 2730, 2731, n - 1];
    const res = await idx.search(pickRows(base, d, probe), 1);
    expect(res.map((r) => r.ids[0])).toEqual(probe.map((r) => ids[r]));
    for (const r of res) expect(r.scores[0]).toBeCloseTo(1, 5);
  });

  it('treats a repeated id within one batch as upserts in order (the last vector wins)', async () => {
    const d = 64;
    const n = 3000; // > one chunk
    const base = randomUnitVectors(n, d, 2);
    const ids = seqIds(n).map((i) => i % 1000); // every id three times
    const idx = flat(d);
    await idx.add(ids, base);
    expect(idx.size).toBe(1000);
    const [first] = await idx.search(base.subarray(0, d), 1); // row 0: id 0, overwritten by row 2000
    expect(first!.scores[0]).toBeLessThan(0.9);
    const [last] = await idx.search(base.subarray(2000 * d, 2001 * d), 1);
    expect(last!.ids).toEqual([0]);
    expect(last!.scores[0]).toBeCloseTo(1, 5);
  });

  it('over-fetches past tombstones: k live results even when the nearest ones were removed', async () => {
    const d = 32;
    const n = 1000;
    const base = clustered(n, d, 3, 8, 0.5);
    const idx = flat(d);
    await idx.add(seqIds(n), base);
    const q = base.subarray(0, d);
    const order = bruteForceTopK(base, d, q, 40).ids;
    expect(await idx.remove(order.slice(0, 25))).toBe(25);
    expect(25).toBeLessThan(COMPACT_FRACTION * n); // tombstones only, no compaction
    const [r] = await idx.search(q, 5);
    expect(r!.ids).toEqual(order.slice(25, 30));
    const out = path.join(dir, 'tombstones');
    await idx.save(out);
    expect((await manifestOf(out)).extra).toMatchObject({ positions: n, tombstones: 25 });
  });

  it('compacts once tombstones pass the threshold, with the same answers as a fresh index', async () => {
    const d = 24;
    const n = 800;
    const base = clustered(n, d, 4, 12, 0.7);
    for (const metric of ['cosine', 'l2'] as const) {
      const idx = flat(d, metric);
      await idx.add(seqIds(n, 5), base);
      const dead = seqIds(n).filter((i) => i % 3 === 0); // 267 > 25 % of 800
      await idx.remove(dead.map((i) => i + 5));
      await idx.add([99_999], base.subarray(0, d)); // added after compaction
      const out = path.join(dir, `compacted-${metric}`);
      await idx.save(out);
      expect((await manifestOf(out)).extra).toMatchObject({ positions: n - dead.length + 1, tombstones: 0 });
      const queries = randomUnitVectors(20, d, 5);
      const got = await idx.search(queries, 10);
      const deadSet = new Set(dead);
      for (let q = 0; q < 20; q++) {
        const want = bruteForceTopK(base, d, queries.subarray(q * d, (q + 1) * d), 11, { metric, idOf: (r) => (deadSet.has(r) ? undefined : r + 5) });
        const withNew = bruteForceTopK(base.subarray(0, d), d, queries.subarray(q * d, (q + 1) * d), 1, { metric, idOf: () => 99_999 });
        const merged = [...want.ids.map((id, i) => ({ id, s: want.scores[i]! })), { id: 99_999, s: withNew.scores[0]! }].sort((a, b) => b.s - a.s).slice(0, 10);
        expect(got[q]!.ids).toEqual(merged.map((x) => x.id));
        got[q]!.scores.forEach((s, i) => expect(s).toBeCloseTo(merged[i]!.s, 4));
      }
    }
  });

  it('removing everything leaves a working empty index', async () => {
    const d = 8;
    const idx = flat(d);
    const base = randomUnitVectors(10, d, 6);
    await idx.add(seqIds(10), base);
    expect(await idx.remove(seqIds(10))).toBe(10);
    expect(idx.size).toBe(0);
    expect(await idx.search(base.subarray(0, d), 3)).toEqual([{ ids: [], scores: [] }]);
    await idx.add([7], base.subarray(d, 2 * d));
    expect((await idx.search(base.subarray(d, 2 * d), 3))[0]!.ids).toEqual([7]);
  });

  it('persists the id map with tombstones and large ids; a loaded index keeps working', async () => {
    const d = 16;
    const base = randomUnitVectors(50, d, 7);
    const ids = seqIds(50).map((i) => Number.MAX_SAFE_INTEGER - i * 1_000_003);
    const idx = flat(d, 'l2');
    await idx.add(ids, base);
    await idx.remove(ids.slice(0, 5));
    const out = path.join(dir, 'idmap');
    await idx.save(out);
    const m = await manifestOf(out);
    expect(m).toMatchObject({ backend: 'faiss-flat', count: 45, metric: 'l2', params: {}, extra: { positions: 50, tombstones: 5 } });
    expect(m.library).toMatch(/^faiss-node@\d/);
    const idsFile = await readFile(path.join(out, m.files.ids!.file));
    expect(idsFile.toString('latin1', 0, 8)).toBe('PXIDMAP1');
    expect(idsFile.length).toBe(16 + 8 * 50);
    const loaded = await loadIndex(out);
    opened.push(loaded);
    expect(loaded).toBeInstanceOf(FaissFlatIndex);
    expect(await loaded.search(base, 3)).toEqual(await idx.search(base, 3));
    expect((loaded as FaissFlatIndex).has(ids[0]!)).toBe(false);
    // Tombstones survive the round trip: the loaded index compacts when more are removed.
    await loaded.remove(ids.slice(5, 10));
    await loaded.add([ids[0]!], base.subarray(0, d));
    const [again] = await loaded.search(base.subarray(0, d), 1);
    expect(again!.ids).toEqual([ids[0]]);
    expect(again!.scores[0]).toBe(0);
  });

  it('rejects structurally plausible but inconsistent files with IndexCorruptError (validated before FAISS reads them)', async () => {
    const d = 8;
    const idx = flat(d);
    await idx.add(seqIds(20), randomUnitVectors(20, d, 8));
    const src = path.join(dir, 'corrupt-src');
    await idx.save(src);
    const m = await manifestOf(src);
    const damage = async (name: string, label: string, edit: (b: Buffer) => Buffer | void, manifestEdit?: (m: IndexManifest) => void) => {
      const target = path.join(dir, `corrupt-${name}-${label}`);
      const { cp } = await import('node:fs/promises');
      await cp(src, target, { recursive: true });
      const file = path.join(target, m.files[name]!.file);
      const buf = await readFile(file);
      await writeFile(file, edit(buf) ?? buf);
      const fixed = structuredClone(m);
      fixed.files[name] = { ...fixed.files[name]!, bytes: (await readFile(file)).length, sha256: await sha256File(file) };
      manifestEdit?.(fixed);
      await writeFile(path.join(target, MANIFEST_FILE), JSON.stringify(fixed));
      await expect(loadIndex(target), `${name} ${label}`).rejects.toBeInstanceOf(IndexCorruptError);
    };
    await damage('index', 'huge-ntotal', (b) => void b.writeBigUInt64LE(2n ** 40n, 8));
    // A float count of 2^36 passes FAISS's own size check (< 2^40) and makes it allocate 256 GiB:
    // std::bad_alloc, which faiss-node does not catch, aborts Node. The pre-read validation stops it.
    await damage('index', 'huge-count', (b) => void b.writeBigUInt64LE(2n ** 36n, 37));
    await damage('index', 'l2-tag', (b) => void b.write('IxF2', 0, 'latin1'));
    await damage('index', 'trailing', (b) => Buffer.concat([b, Buffer.alloc(4)]));
    await damage('index', 'dimension', () => undefined, (mm) => void (mm.dimension = 9));
    await damage('ids', 'duplicate-id', (b) => void b.writeDoubleLE(b.readDoubleLE(16), 24));
    await damage('ids', 'fractional-id', (b) => void b.writeDoubleLE(1.5, 16));
    await damage('ids', 'count', () => undefined, (mm) => void (mm.count = 19));
  });

  it('fails a save into an impossible directory with an error, not an abort', async () => {
    const idx = flat(4);
    await idx.add([1], new Float32Array([1, 0, 0, 0]));
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(idx.save(path.join(file, 'sub'))).rejects.toThrow(/ENOTDIR|not a directory/i);
    expect(idx.size).toBe(1);
  });

  it('serialises interleaved operations in call order', async () => {
    const d = 8;
    const base = randomUnitVectors(100, d, 9);
    const idx = flat(d);
    const pending = [idx.add(seqIds(50), base.subarray(0, 50 * d)), idx.search(base.subarray(60 * d, 61 * d), 1), idx.add(seqIds(50, 50), base.subarray(50 * d)), idx.search(base.subarray(60 * d, 61 * d), 1)];
    const [, before, , after] = (await Promise.all(pending)) as [void, { ids: number[] }[], void, { ids: number[] }[]];
    expect(before[0]!.ids[0]).not.toBe(60);
    expect(after[0]!.ids[0]).toBe(60);
  });

  it('close() is idempotent; every later call throws ClosedError', async () => {
    const idx = FaissFlatIndex.create({ dimension: 4, metric: 'cosine' });
    await idx.add([1], new Float32Array([1, 0, 0, 0]));
    await idx.close();
    await idx.close();
    expect(idx.size).toBe(0);
    expect(() => idx.has(1)).toThrow(ClosedError);
    await expect(idx.remove([1])).rejects.toBeInstanceOf(ClosedError);
    await expect(idx.save(path.join(dir, 'closed'))).rejects.toBeInstanceOf(ClosedError);
  });
});
