import { readFile } from 'node:fs/promises';
import { ClosedError, DimensionMismatchError, IndexCorruptError, InvalidArgumentError, InvalidVectorError, readIndexManifest } from '@pixsearch/core';
import { afterEach, describe, expect, it } from 'vitest';
import { bruteForceTopK, clusteredDataset, exactTopK, randomUnitVectors } from '@pixsearch/core/testing';
import { UsearchIndex, usearchBackend } from '../src/index.js';
import { quantizeRowsI8 } from '../src/usearch-native.js';
import { damage, dataFile, garbage, patch, readManifest, row, tempDir } from './helpers.js';

const D = 16;
const open: { close(): Promise<void> }[] = [];
const dirs: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const idx of open.splice(0)) await idx.close();
  for (const cleanup of dirs.splice(0)) await cleanup();
});

async function make(params: Record<string, number | string> = {}, metric: 'cosine' | 'l2' = 'cosine', d = D): Promise<UsearchIndex> {
  const idx = await UsearchIndex.create(d, metric, params);
  open.push(idx);
  return idx;
}
async function load(dir: string): Promise<UsearchIndex> {
  const idx = (await usearchBackend.load(dir, await readIndexManifest(dir))) as UsearchIndex;
  open.push(idx);
  return idx;
}
async function dir(): Promise<string> {
  const t = await tempDir();
  dirs.push(t.cleanup);
  return t.dir;
}

describe('usearch backend', () => {
  it('stores f16 and i8 kinds, finds each vector, and keeps the kind through save and load', async () => {
    const n = 400;
    const v = randomUnitVectors(n, D, 17);
    const ids = Array.from({ length: n }, (_, i) => i);
    for (const [params, kind, tolerance] of [
      [{ quantization: 'f16' }, 'f16', 1e-3],
      [{ dtype: 'i8' }, 'i8', 2e-2],
    ] as const) {
      const idx = await make(params);
      expect(idx.params.quantization).toBe(kind);
      await idx.add(ids, v);
      // Approximate search (and a multi-threaded build): nearly every vector finds itself first.
      const res = await idx.search(v.subarray(0, 100 * D), 1);
      const self = res.filter((r, i) => r.ids[0] === i);
      expect(self.length).toBeGreaterThanOrEqual(95);
      for (const r of self) expect(Math.abs(r.scores[0]! - 1)).toBeLessThan(tolerance);
      const d = await dir();
      await idx.save(d);
      expect((await readManifest(d)).params.quantization).toBe(kind);
      const back = await load(d);
      expect(back.params.quantization).toBe(kind);
      expect((await back.search(v.subarray(0, 100 * D), 1)).map((r) => r.ids[0])).toEqual(res.map((r) => r.ids[0]));
      // The file stores each vector in the kind's width (f32 would be 4 bytes per component).
      const file = await readFile(await dataFile(d, 'graph'));
      expect(file.readUInt32LE(4)).toBe(D * (kind === 'f16' ? 2 : 1));
    }
  });

  it('quantises i8 rows to full range: max |component| → 127, rounded; zero rows stay zero', () => {
    const q = quantizeRowsI8(new Float32Array([0.25, -0.5, 0.1, 0, 0, 0, 0.5, 0.25, -0.125]), 3);
    expect(Array.from(q)).toEqual([64, -127, 25, 0, 0, 0, 127, 64, -32]);
  });

  it('keeps i8 scores within 0.005 of the true cosine and finds the true neighbours', async () => {
    // USearch's own float→i8 cast (L2-normalise, ×127, truncate) leaves 512-d unit vectors about
    // ±15 levels per axis: its scores drift ~0.02 from the true cosine. Full-range codes do not.
    const d = 512;
    const data = clusteredDataset(2000, d, 20, 2024);
    const idx = await make({ quantization: 'i8' }, 'cosine', d);
    await idx.add(
      Array.from({ length: 2000 }, (_, i) => i),
      data.base,
    );
    const got = await idx.search(data.queries, 10, { expansion: 200 });
    const truth = exactTopK(data.base, data.queries, d, 10);
    let hits = 0;
    let maxError = 0;
    got.forEach((r, q) => {
      const expected = new Set(truth[q]!.ids);
      hits += r.ids.filter((id) => expected.has(id)).length;
      r.ids.forEach((id, i) => {
        let cos = 0;
        for (let j = 0; j < d; j++) cos += data.base[id * d + j]! * data.queries[q * d + j]!;
        maxError = Math.max(maxError, Math.abs(cos - r.scores[i]!));
      });
    });
    expect(hits / (10 * got.length)).toBeGreaterThanOrEqual(0.9);
    expect(maxError).toBeLessThan(0.005);
  });

  it('rejects i8 with l2, unknown kinds and unknown parameters', async () => {
    await expect(UsearchIndex.create(D, 'l2', { quantization: 'i8' })).rejects.toThrow(InvalidArgumentError);
    await expect(UsearchIndex.create(D, 'cosine', { quantization: 'b1' })).rejects.toThrow(InvalidArgumentError);
    await expect(UsearchIndex.create(D, 'cosine', { efSearch: 5 })).rejects.toThrow(/unknown parameter/);
    await expect(UsearchIndex.create(D, 'cosine', { quantization: 'f16', dtype: 'i8' })).rejects.toThrow(InvalidArgumentError);
  });

  it('keeps ids beyond 32 bits exact (BigInt keys), through save and load', async () => {
    const idx = await make();
    const ids = [2 ** 32, 2 ** 53 - 1, 2 ** 53 - 2, 0];
    const v = randomUnitVectors(4, D, 9);
    await idx.add(ids, v);
    const res = await idx.search(v, 1);
    expect(res.map((r) => r.ids[0])).toEqual(ids);
    const d = await dir();
    await idx.save(d);
    const back = await load(d);
    expect((await back.search(v, 1)).map((r) => r.ids[0])).toEqual(ids);
    expect(back.has(2 ** 53 - 1)).toBe(true);
    expect(back.has(2 ** 53 - 3)).toBe(false);
  });

  it('honours a per-search expansion exactly (USearch fixes it at construction)', async () => {
    const n = 2000;
    const d = 32;
    const v = randomUnitVectors(n, d, 23);
    const q = randomUnitVectors(50, d, 24);
    const ids = Array.from({ length: n }, (_, i) => i);
    const idx = await make({ threads: 1 }, 'cosine', d);
    await idx.add(ids, v);
    const recall = async (expansion: number): Promise<number> => {
      const res = await idx.search(q, 10, { expansion });
      let hit = 0;
      res.forEach((r, i) => {
        const truth = new Set(bruteForceTopK(v, d, row(q, i, d), 10, { idOf: (r) => ids[r] }).ids);
        hit += r.ids.filter((id) => truth.has(id)).length;
      });
      return hit / (10 * res.length);
    };
    const low = await recall(10);
    const high = await recall(n);
    expect(high).toBe(1);
    expect(low).toBeLessThan(high);
    await expect(idx.search(q, 10, { expansion: 0 })).rejects.toThrow(InvalidArgumentError);
  });

  it('upserts: an existing id is replaced, the last duplicate in a batch wins', async () => {
    const idx = await make();
    const v = randomUnitVectors(4, D, 11);
    await idx.add([1, 2], v.subarray(0, 2 * D));
    await idx.add([1], row(v, 2, D));
    expect(idx.size).toBe(2);
    const [hit] = await idx.search(row(v, 2, D), 1);
    expect(hit!.ids[0]).toBe(1);
    expect(hit!.scores[0]).toBeCloseTo(1, 5);
    await idx.add([3, 3, 3], v.subarray(0, 3 * D));
    expect(idx.size).toBe(3);
    const [three] = await idx.search(row(v, 2, D), 3);
    expect(three!.ids.slice(0, 2).sort()).toEqual([1, 3]);
  });

  it('removes with tombstones that later adds reuse; removal survives save and load', async () => {
    const idx = await make();
    const v = randomUnitVectors(20, D, 13);
    await idx.add(Array.from({ length: 10 }, (_, i) => i), v.subarray(0, 10 * D));
    expect(await idx.remove([3, 4, 99, 3])).toBe(2);
    expect(idx.size).toBe(8);
    expect(idx.has(3)).toBe(false);
    const [res] = await idx.search(row(v, 3, D), 10);
    expect(res!.ids).toHaveLength(8);
    expect(res!.ids).not.toContain(3);
    const d = await dir();
    await idx.save(d);
    const back = await load(d);
    expect(back.size).toBe(8);
    await back.add([3, 50], v.subarray(10 * D, 12 * D));
    expect(back.size).toBe(10);
    expect((await back.search(row(v, 10, D), 1))[0]!.ids[0]).toBe(3);
  });

  it('scores l2 as the negated squared distance; batches and single queries agree', async () => {
    const idx = await make({ threads: 2 }, 'l2', 2);
    await idx.add([1, 2], new Float32Array([0, 0, 3, 4]));
    const [res] = await idx.search(new Float32Array([0, 0]), 5);
    expect(res!.ids).toEqual([1, 2]);
    expect(res!.scores[0]).toBeCloseTo(0, 6);
    expect(res!.scores[1]).toBeCloseTo(-25, 4);
    const batch = await idx.search(new Float32Array([0, 0, 3, 4]), 2);
    expect(batch[0]).toEqual(res);
    expect(batch[1]!.ids[0]).toBe(2);
  });

  it('caps threads at the core count, so a loaded index can still search with them', async () => {
    const idx = await make({ threads: 64 });
    const v = randomUnitVectors(200, D, 31);
    await idx.add(Array.from({ length: 200 }, (_, i) => i), v);
    const d = await dir();
    await idx.save(d);
    const back = await load(d);
    expect(back.params.threads).toBe(64);
    const res = await back.search(v.subarray(0, 20 * D), 3);
    expect(res.map((r) => r.ids.length)).toEqual(new Array(20).fill(3));
  });

  it('validates inputs before they reach usearch', async () => {
    const idx = await make();
    await expect(idx.add([1], new Float32Array(D + 1))).rejects.toThrow(DimensionMismatchError);
    const bad = randomUnitVectors(1, D, 1);
    bad[0] = Number.POSITIVE_INFINITY;
    await expect(idx.add([1], bad)).rejects.toThrow(InvalidVectorError);
    await expect(idx.add([1.5], randomUnitVectors(1, D, 1))).rejects.toThrow(InvalidArgumentError);
    await expect(idx.search(randomUnitVectors(1, D, 1), 1.5)).rejects.toThrow(InvalidArgumentError);
    expect(await idx.search(randomUnitVectors(1, D, 1), 3)).toEqual([{ ids: [], scores: [] }]);
    expect(idx.size).toBe(0);
  });

  it('close() is idempotent and later use throws ClosedError', async () => {
    const idx = await make();
    await idx.add([1], randomUnitVectors(1, D, 1));
    await idx.close();
    await idx.close();
    await expect(idx.search(randomUnitVectors(1, D, 1), 1)).rejects.toThrow(ClosedError);
    await expect(idx.remove([1])).rejects.toThrow(ClosedError);
    expect(() => idx.has(1)).toThrow(ClosedError);
  });

  describe('damaged files give IndexCorruptError, never a crash', () => {
    async function saved(): Promise<string> {
      const idx = await make({ connectivity: 8 });
      await idx.add(Array.from({ length: 300 }, (_, i) => i + 2 ** 40), randomUnitVectors(300, D, 21));
      await idx.remove([2 ** 40 + 5]);
      const d = await dir();
      await idx.save(d);
      return d;
    }
    // Layout: [u32 rows][u32 row bytes][rows × 64 B vectors][64 B head][40 B graph header][rows × i16 levels][nodes]
    const nodesAt = 8 + 300 * D * 4 + 64 + 40 + 300 * 2;

    it('a truncated graph file (checksum in the manifest)', async () => {
      const d = await saved();
      await damage(d, 'graph', { truncateTo: 100 }, false);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
    });

    it('a truncated graph file whose manifest was rewritten to match', async () => {
      const d = await saved();
      for (const at of [4, 5000, nodesAt + 50]) {
        await damage(d, 'graph', { truncateTo: at }, true);
        await expect(load(d)).rejects.toThrow(IndexCorruptError);
      }
    });

    it('a garbage graph file, and an empty one', async () => {
      const d = await saved();
      await damage(d, 'graph', { bytes: garbage(100_000) }, true);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
      await damage(d, 'graph', { bytes: new Uint8Array(0) }, true);
      await expect(load(d)).rejects.toThrow(IndexCorruptError);
    });

    it('a graph whose neighbour slot points outside the index', async () => {
      const d = await saved();
      // First node: key (8) + level (2) + neighbour count (4), then its first neighbour slot.
      await patch(d, 'graph', (b) => b.writeUInt32LE(1_000_000, nodesAt + 14));
      await expect(load(d)).rejects.toThrow(/links to a missing node/);
    });

    it('a graph whose live count disagrees with the manifest', async () => {
      const d = await saved();
      const m = await readIndexManifest(d);
      await expect(usearchBackend.load(d, { ...m, count: m.count + 1 })).rejects.toThrow(IndexCorruptError);
      await expect(usearchBackend.load(d, { ...m, params: { ...m.params, quantization: 'f16' } })).rejects.toThrow(IndexCorruptError);
    });
  });
});
