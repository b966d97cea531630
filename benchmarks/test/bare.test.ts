import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bareDriver } from '../src/backends/index.js';
import type { BenchConfig } from '../src/backends/types.js';
import { syntheticSet } from '../src/datasets/synthetic.js';
import { exactGroundTruth } from '../src/ground-truth.js';
import { recallAtK } from '../src/metrics.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pixsearch-bare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const d = 32;
const spec = { n: 3000, queries: 50, dimension: d, seed: 5 };
const base = syntheticSet(spec, 'base');
const queries = syntheticSet(spec, 'queries');
const gt = exactGroundTruth(base, queries, d, 10);

function recallOf(results: ArrayLike<number>[]): number {
  return recallAtK(results, gt, base, queries, d, 10);
}

const point = (params: Record<string, number>) => ({ label: 'p', params });
const cfg = (backend: BenchConfig['backend'], build: BenchConfig['build']): BenchConfig => ({
  id: backend,
  backend,
  label: backend,
  build,
  sweep: [],
  overheadPoint: point({}),
});

describe('bare-library drivers (libraries called directly)', () => {
  it('faiss flat is exact; one query and a batch agree', () => {
    const c = cfg('faiss-flat', {});
    const { index, times } = bareDriver('faiss-flat').build(c, base, d);
    expect(times.convertMs).toBeGreaterThan(0);
    const batch = index.searchBatch(queries, 10);
    expect(recallOf(batch)).toBe(1);
    expect(Array.from(index.searchOne(queries.subarray(0, d), 10))).toEqual(Array.from(batch[0]!));
  });

  it('faiss IVF: nprobe patched into the file raises recall up to exact at nprobe = nlist', async () => {
    const c = cfg('faiss-ivf', { nlist: 16 });
    const drv = bareDriver('faiss-ivf');
    const { index, times } = drv.build(c, base, d);
    expect(times.trainMs).toBeGreaterThan(0);
    const file = path.join(dir, 'ivf.faiss');
    drv.save(index, file);
    const recalls: number[] = [];
    for (const nprobe of [1, 4, 16]) recalls.push(recallOf((await drv.load(c, file, d, point({ nprobe }), 'all')).searchBatch(queries, 10)));
    expect(recalls[0]!).toBeLessThan(recalls[2]!);
    expect(recalls[1]!).toBeGreaterThanOrEqual(recalls[0]!);
    expect(recalls[2]).toBe(1);
    await expect(drv.load(c, file, d, point({ nprobe: 17 }), 'all')).rejects.toThrow(/nprobe must be in \[1, 16\]/);
    // nlist is checked against the file: a config that disagrees with the index is refused.
    await expect(drv.load(cfg('faiss-ivf', { nlist: 8 }), file, d, point({ nprobe: 1 }), 'all')).rejects.toThrow(/not an IVF,Flat file with nlist 8/);
  });

  it('hnswlib: efSearch re-applied after load; recall high', async () => {
    const c = cfg('hnswlib', { M: 8, efConstruction: 64 });
    const drv = bareDriver('hnswlib');
    const { index } = drv.build(c, base, d);
    const file = path.join(dir, 'hnsw.bin');
    drv.save(index, file);
    const loaded = await drv.load(c, file, d, point({ efSearch: 100 }), 'single');
    expect(recallOf(loaded.searchBatch(queries, 10))).toBeGreaterThan(0.95);
  });

  it.each(['f32', 'i8'])('usearch %s: zero-copy build, expansion applied on load', async (quantization) => {
    const c = cfg('usearch', { quantization, connectivity: 8, expansion_add: 64 });
    const drv = bareDriver('usearch');
    const { index, times } = drv.build(c, base, d);
    expect(times.convertMs).toBe(0);
    const file = path.join(dir, `u-${quantization}.usearch`);
    drv.save(index, file);
    const loaded = await drv.load(c, file, d, point({ expansion: 100 }), 'single');
    const batch = loaded.searchBatch(queries, 10);
    expect(recallOf(batch)).toBeGreaterThan(0.9);
    expect(Array.from(loaded.searchOne(queries.subarray(0, d), 10))).toEqual(Array.from(batch[0]!));
  });
});
