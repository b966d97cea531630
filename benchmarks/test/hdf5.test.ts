import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@pixsearch/core';
import { readAnnBenchmarksHdf5 } from '../src/datasets/hdf5.js';
import { ensureImported, loadDataset } from '../src/datasets/store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pixsearch-h5-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const d = 8;
const n = 50;
const nq = 6;
const train = Float32Array.from({ length: n * d }, (_, i) => Math.cos(i * 0.37) + (i % d === 0 ? 2 : 0));
const test = Float32Array.from({ length: nq * d }, (_, i) => Math.sin(i * 0.11) + 1);
const neighbors = Int32Array.from({ length: nq * 10 }, (_, i) => (i * 7) % n);
const distances = Float32Array.from({ length: nq * 10 }, (_, i) => i / 100);
const file = path.join(dir, 'tiny-8-angular.hdf5');

// Written with h5wasm directly, in the layout ann-benchmarks publishes.
beforeAll(async () => {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const f = new h5.File(file, 'w');
  f.create_attribute('distance', 'angular');
  f.create_attribute('dimension', d);
  f.create_attribute('point_type', 'float');
  f.create_dataset({ name: 'train', data: train, shape: [n, d], dtype: '<f' });
  f.create_dataset({ name: 'test', data: test, shape: [nq, d], dtype: '<f' });
  f.create_dataset({ name: 'neighbors', data: neighbors, shape: [nq, 10], dtype: '<i' });
  f.create_dataset({ name: 'distances', data: distances, shape: [nq, 10], dtype: '<f' });
  f.close();
  const g = new h5.File(path.join(dir, 'no-train.hdf5'), 'w');
  g.create_dataset({ name: 'test', data: test, shape: [nq, d], dtype: '<f' });
  g.close();
});

describe('ann-benchmarks HDF5 loader', () => {
  it('reads train/test/neighbors/distances and the distance attribute', async () => {
    const data = await readAnnBenchmarksHdf5(file);
    expect(data.dimension).toBe(d);
    expect(data.distance).toBe('angular');
    expect(Array.from(data.train)).toEqual(Array.from(train));
    expect(Array.from(data.test)).toEqual(Array.from(test));
    expect(data.neighborsK).toBe(10);
    expect(Array.from(data.neighbors!)).toEqual(Array.from(neighbors));
    expect(Array.from(data.distances!)).toEqual(Array.from(distances));
  });

  it('cuts train and test on request', async () => {
    const data = await readAnnBenchmarksHdf5(file, { maxTrain: 20, maxTest: 2 });
    expect(data.train.length).toBe(20 * d);
    expect(data.test.length).toBe(2 * d);
    expect(data.neighbors!.length).toBe(2 * 10);
  });

  it('rejects a file without train/test and a file that is not HDF5', async () => {
    await expect(readAnnBenchmarksHdf5(path.join(dir, 'no-train.hdf5'))).rejects.toThrow(InvalidArgumentError);
    await expect(readAnnBenchmarksHdf5(path.join(dir, 'missing.hdf5'))).rejects.toThrow(InvalidArgumentError);
  });

  it('imports into the dataset cache, L2-normalised', async () => {
    const dataDir = path.join(dir, 'cache');
    const dsDir = await ensureImported(dataDir, file);
    const ds = loadDataset(dsDir);
    expect(ds.info.n).toBe(n);
    expect(ds.info.nq).toBe(nq);
    expect(ds.info.source).toMatch(/ann-benchmarks, distance angular/);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += ds.base[r * d + j]! ** 2;
      expect(s).toBeCloseTo(1, 5);
    }
    // Cached: a second import returns the same folder without rereading.
    expect(await ensureImported(dataDir, file)).toBe(dsDir);
  });
});

describe('ann-benchmarks HDF5 loader on non-HDF5 input', () => {
  it('says the file is not HDF5', async () => {
    const { writeFileSync } = await import('node:fs');
    const junk = path.join(dir, 'junk.hdf5');
    writeFileSync(junk, 'not hdf5 at all');
    await expect(readAnnBenchmarksHdf5(junk)).rejects.toThrow(/not an HDF5 file/);
  });
});
