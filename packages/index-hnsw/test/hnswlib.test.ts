import { readFile } from 'node:fs/promises';
import {
  ClosedError,
  createIndex,
  DimensionMismatchError,
  IndexCorruptError,
  InvalidArgumentError,
  InvalidVectorError,
  loadIndex,
  readIndexManifest,
  registerBackend,
} from '@pixsearch/core';
import { afterEach, describe, expect, it } from 'vitest';
import { backends, HnswlibIndex, hnswlibBackend } from '../src/index.js';
import { randomUnitVectors } from '@pixsearch/core/datasets';
import { damage, dataFile, garbage, patch, row, tempDir } from './helpers.js';

const D = 16;
const open: { close(): Promise<void> }[] = [];
const dirs: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const idx of open.splice(0)) await idx.close();
  for (const cleanup of dirs.splice(0)) await cleanup();
});

async function make(params: Record<string, number | string> = {}, metric: 'cosine' | 'l2' = 'cosine', d = D): Promise<HnswlibIndex> {
  const idx = await HnswlibIndex.create(d, metric, params);
  open.push(idx);
  return idx;
}
async function load(dir: string): Promise<HnswlibIndex> {
  const idx = (await hnswlibBackend.load(dir, await readIndexManifest(dir))) as HnswlibIndex;
  open.push(idx);
  return idx;
}
async function dir(): Promise<string> {
  const t = await tempDir();
  dirs.push(t.cleanup);
  return t.dir;
}

describe('hnswlib backend', () => {
  it('grows its capacity automatically and keeps every vector findable', async () => {
    const idx = await make();
    expect(idx.nativeCapacity).toBe(1024);
    const n = 2500;
    const v = randomUnitVectors(n, D, 3);
    const ids = Array.from({ length: n }, (_, i) => i * 7);
    await idx.add(ids.slice(0, 1000), v.subarray(0, 1000 * D));
    await idx.add(ids.slice(1000), v.subarray(1000 * D));
    expect(idx.size).toBe(n);
    expect(idx.nativeCapacity).toBeGreaterThanOrEqual(n);
    const res = await idx.search(v, 1, { efSearch: 64 });
    const self = res.filter((r, i) => r.ids[0] === ids[i]).length;
    expect(self / n).toBeGreaterThan(0.99);
  });

  it('re-applies efSearch after load (hnswlib resets ef to 10 on read)', async () => {
    const idx = await make({ efSearch: 77 });
    await idx.add([1, 2, 3], randomUnitVectors(3, D, 1));
    expect(idx.nativeEf).toBe(77);
    const d = await dir();
    await idx.save(d);
    const back = await load(d);
    expect(back.params.efSearch).toBe(77);
    expect(back.nativeEf).toBe(77);
  });

  it('raises efSearch to k and honours a per-search efSearch', async () => {
    const idx = await make({ efSearch: 4 });
    const v = randomUnitVectors(300, D, 5);
    await idx.add(Array.from({ length: 300 }, (_, i) => i), v);
    const [res] = await idx.search(row(v, 0, D), 50);
    expect(res!.ids).toHaveLength(50);
    expect(idx.nativeEf).toBe(50);
    await idx.search(row(v, 0, D), 5, { efSearch: 120 });
    expect(idx.nativeEf).toBe(120);
    await expect(idx.search(row(v, 0, D), 5, { efSearch: 0 })).rejects.toThrow(InvalidArgumentError);
  });

  it('keeps ids beyond 32 bits exact, through save and load', async () => {
    const idx = await make();
    const ids = [2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, 123];
    const v = randomUnitVectors(4, D, 9);
    await idx.add(ids, v);
    for (let i = 0; i < ids.length; i++) expect((await idx.search(row(v, i, D), 1))[0]!.ids[0]).toBe(ids[i]);
    const d = await dir();
    await idx.save(d);
    const back = await load(d);
    for (let i = 0; i < ids.length; i++) {
      expect(back.has(ids[i]!)).toBe(true);
      expect((await back.search(row(v, i, D), 1))[0]!.ids[0]).toBe(ids[i]);
    }
  });

  it('upserts: re-adding an id replaces its vector in place; the last duplicate in a batch wins', async () => {
    const idx = await make();
    const v = randomUnitVectors(4, D, 11);
    await idx.add([5, 6], v.subarray(0, 2 * D));
    await idx.add([5], row(v, 2, D));
    expect(idx.size).toBe(2);
    expect(idx.nativeSlots).toBe(2);
    const [hit] = await idx.search(row(v, 2, D), 1);
    expect(hit!.ids[0]).toBe(5);
    expect(hit!.scores[0]).toBeCloseTo(1, 5);
    await idx.add([7, 7], v.subarray(0, 2 * D)); // rows 0 then 1: row 1 wins
    const [seven] = await idx.search(row(v, 1, D), 2);
    expect(seven!.ids).toContain(7);
    expect(idx.size).toBe(3);
  });

  it('reuses the slots of removed ids, and removal survives save and load', async () => {
    const idx = await make();
    const v = randomUnitVectors(20, D, 13);
    await idx.add(Array.from({ length: 10 }, (_, i) => i), v.subarray(0, 10 * D));
    expect(await idx.remove([3, 4, 99, 3])).toBe(2);
    expect(idx.size).toBe(8);
    expect(idx.has(3)).toBe(false);
    const d = await dir();
    await idx.save(d);
    const back = await load(d);
    expect(back.size).toBe(8);
    const [res] = await back.search(row(v, 3, D), 10);
    expect(res!.ids).toHaveLength(8);
    expect(res!.ids).not.toContain(3);
    await back.add([100, 101, 102], v.subarray(10 * D, 13 * D));
    expect(back.nativeSlots).toBe(11); // two reused, one fresh
    expect((await back.search(row(v, 11, D), 1))[0]!.ids[0]).toBe(101);
    expect((await back.search(row(v, 3, D), 10))[0]!.ids).not.toContain(3);
  });

  it('scores l2 as the negated squared distance', async () => {
    const idx = await make({}, 'l2', 2);
    await idx.add([1, 2], new Float32Array([0, 0, 3, 4]));
    const [res] = await idx.search(new Float32Array([0, 0]), 2);
    expect(res!.ids).toEqual([1, 2]);
    expect(res!.scores[0]).toBeCloseTo(0, 6);
    expect(res!.scores[1]).toBeCloseTo(-25, 4);
  });

  it('validates inputs before they reach hnswlib', async () => {
    const idx = await make();
    await expect(idx.add([1], new Float32Array(D + 1))).rejects.toThrow(DimensionMismatchError);
    const bad = randomUnitVectors(1, D, 1);
    bad[3] = Number.NaN;
    await expect(idx.add([1], bad)).rejects.toThrow(InvalidVectorError);
    await expect(idx.add([-1], randomUnitVectors(1, D, 1))).rejects.toThrow(InvalidArgumentError);
    await expect(idx.add([2 ** 53], randomUnitVectors(1, D, 1))).rejects.toThrow(InvalidArgumentError);
    await expect(idx.search(randomUnitVectors(1, D, 1), 0)).rejects.toThrow(InvalidArgumentError);
    await expect(idx.search(new Float32Array(D - 1), 1)).rejects.toThrow(DimensionMismatchError);
    expect(await idx.search(randomUnitVectors(2, D, 1), 5)).toEqual([
      { ids: [], scores: [] },
      { ids: [], scores: [] },
    ]);
    await expect(HnswlibIndex.create(D, 'cosine', { M: 1 })).rejects.toThrow(InvalidArgumentError);
    await expect(HnswlibIndex.create(D, 'cosine', { ef: 10 })).rejects.toThrow(/unknown parameter "ef"/);
  });

  it('registers with core: createIndex and loadIndex find it by backend name', async () => {
    registerBackend(...backends);
    const idx = await createIndex({ backend: 'hnswlib', dimension: D, params: { M: 8 } });
    open.push(idx);
    expect(idx).toBeInstanceOf(HnswlibIndex);
    expect(idx.params).toEqual({ M: 8, efConstruction: 200, efSearch: 64 });
    await idx.add([1], randomUnitVectors(1, D, 1));
    const d = await dir();
    if (idx.persistence !== 'files') throw new Error('hnswlib keeps its index in files');
    await idx.save(d);
    const back = await loadIndex(d);
    open.push(back);
    expect(back.backend).toBe('hnswlib');
    expect(back.size).toBe(1);
  });

  it('close() is idempotent and later use throws ClosedError', async () => {
    const idx = await make();
    await idx.add([1], randomUnitVectors(1, D, 1));
    await idx.close();
    await idx.close();
    await expect(idx.search(randomUnitVectors(1, D, 1), 1)).rejects.toThrow(ClosedError);
    await expect(idx.add([2], randomUnitVectors(1, D, 1))).rejects.toThrow(ClosedError);
    await expect(idx.save(await dir())).rejects.toThrow(ClosedError);
    expect(() => idx.size).toThrow(ClosedError);
  });

  it('close() during a save waits for the native writer, and the save still lands', async () => {
    const idx = await make();
    await idx.add(Array.from({ length: 200 }, (_, i) => i), randomUnitVectors(200, D, 1));
    const d = await dir();
    const saving = idx.save(d);
    await new Promise((r) => setImmediate(r));
    const closing = idx.close();
    await saving;
    await closing;
    const back = await load(d);
    expect(back.size).toBe(200);
  });

  describe('damaged files give IndexCorruptError, never a crash', () => {
    async function saved(): Promise<string> {
      const idx = await make();
      await idx.add(Array.from({ length: 300 }, (_, i) => i + 2 ** 40), randomUnitVectors(300, D, 21));
      await idx.remove([2 ** 40 + 5]);
      const d = await dir();
      await idx.save(d);
      return d;
    }

    it('a truncated graph file (checksum in the manifest)', async () => {
      const d = await saved();
      await damage(d, 'graph', { truncateTo: 1000 }, false);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
    });

    it('a truncated graph file whose manifest was rewritten to match', async () => {
      const d = await saved();
      await damage(d, 'graph', { truncateTo: 5000 }, true);
      await expect(load(d)).rejects.toThrow(/truncated|graph file/);
    });

    it('a garbage graph file, and an empty one', async () => {
      const d = await saved();
      await damage(d, 'graph', { bytes: garbage(200_000) }, true);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
      await damage(d, 'graph', { bytes: new Uint8Array(0) }, true);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
    });

    it('a graph whose neighbour slot points outside the index (would crash hnswlib)', async () => {
      const d = await saved();
      // Element 0's first level-0 neighbour: offset 96 (header) + 4 (count word).
      await patch(d, 'graph', (b) => b.writeUInt32LE(1_000_000, 100));
      await expect(load(d)).rejects.toThrow(/links to a missing element/);
    });

    it('a graph whose deleted flags disagree with the id map', async () => {
      const d = await saved();
      await patch(d, 'graph', (b) => {
        b[96 + 2] = (b[96 + 2]! ^ 1) & 0xff; // toggle element 0's deleted flag
      });
      await expect(load(d)).rejects.toThrow(/deleted/);
    });

    it('a garbage or truncated id map', async () => {
      const d = await saved();
      const ids = await readFile(await dataFile(d, 'ids'));
      await damage(d, 'ids', { bytes: garbage(ids.length) }, true);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
      await damage(d, 'ids', { bytes: ids.subarray(0, ids.length - 8) }, true);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
    });

    it('a missing manifest or data file', async () => {
      const d = await saved();
      await expect(loadIndex(`${d}/nope`)).rejects.toThrow(IndexCorruptError);
      const m = await readIndexManifest(d);
      await expect(hnswlibBackend.load(d, { ...m, files: { graph: m.files.graph! } })).rejects.toThrow(IndexCorruptError);
    });
  });
});
