/**
 * The VectorIndex conformance suite. Every adapter package runs it against itself from a
 * tiny test file:
 *
 *   describeVectorIndexConformance({ name: 'hnswlib', create: (o) => createIndex({ backend: 'hnswlib', ...o }) });
 *
 * A backend that cannot do a case lists it in `skip` with a reason; the case is then reported
 * as skipped with that reason in the test name.
 */
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, DimensionMismatchError, IndexCorruptError, InvalidArgumentError, InvalidVectorError } from '../errors.js';
import { MANIFEST_FILE, sha256File } from '../index-files.js';
import { loadIndex } from '../index-registry.js';
import type { FileVectorIndex, IndexManifest, Metric, Neighbors, SearchParams, VectorIndex } from '../vector-index.js';
import { clusteredDataset, exactTopK, recallAtK } from './datasets.js';

/** Names of the suite's cases, for `skip`. */
export type ConformanceCase =
  | 'empty'
  | 'k-larger-than-size'
  | 'dimension-mismatch'
  | 'invalid-vectors'
  | 'invalid-ids'
  | 'upsert'
  | 'remove'
  | 'save-load'
  | 'corrupt-files'
  | 'large-ids'
  | 'recall'
  | 'concurrent-search'
  | 'close'
  | 'l2-metric';

export interface ConformanceOptions {
  /** Backend name, used in test titles. */
  name: string;
  /** Creates an empty index (caller closes it). */
  create(options: { dimension: number; metric: Metric; params?: Record<string, number | string> }): Promise<VectorIndex>;
  /** Loads a saved index (default: core's `loadIndex`). */
  load?(dir: string): Promise<VectorIndex>;
  /**
   * Exact reference index for the recall case (e.g. faiss-flat); default: brute force in JS.
   * Must return true inner-product top-k.
   */
  reference?(dimension: number): Promise<VectorIndex>;
  /** Cases this backend cannot do, with the reason shown in the report. */
  skip?: Partial<Record<ConformanceCase, string>>;
  /** Search params for the recall case (default: none, i.e. the backend's defaults). */
  recallParams?: SearchParams;
  /** Minimum recall@10 (default 0.95). */
  minRecall?: number;
  /** Tolerance when comparing returned scores with recomputed inner products (default 1e-4; quantised backends need more). */
  scoreTolerance?: number;
  /** Size of the recall dataset (default 20 000 × 512, 200 queries). */
  recallSize?: { n: number; dimension: number; queries: number };
}

/** Registers the suite's tests in the current vitest file. */
export function describeVectorIndexConformance(options: ConformanceOptions): void {
  const load = options.load ?? loadIndex;
  const tol = options.scoreTolerance ?? 1e-4;
  const dim = 16;
  const cases = (name: ConformanceCase, title: string, fn: () => Promise<void>, timeout?: number) => {
    const reason = options.skip?.[name];
    if (reason !== undefined) {
      // The only sanctioned skip: the backend declares it cannot do this, with a reason.
      it.skip(`${title} — skipped: ${reason}`, () => {});
    } else {
      it(title, fn, timeout);
    }
  };
  const opened: VectorIndex[] = [];
  const make = async (metric: Metric = 'cosine', params?: Record<string, number | string>) => {
    const idx = await options.create({ dimension: dim, metric, ...(params ? { params } : {}) });
    opened.push(idx);
    return idx;
  };
  let dir: string;
  let small: { base: Float32Array; queries: Float32Array };

  describe(`VectorIndex conformance: ${options.name}`, () => {
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), `pixsearch-conf-${options.name}-`));
      small = clusteredDataset(300, dim, 10, 7);
    });
    afterAll(async () => {
      for (const idx of opened) await idx.close();
      await rm(dir, { recursive: true, force: true });
    });

    cases('empty', 'an empty index has size 0 and returns no neighbours', async () => {
      const idx = await make();
      expect(idx.size).toBe(0);
      expect(idx.dimension).toBe(dim);
      expect(idx.metric).toBe('cosine');
      const res = await idx.search(small.queries.subarray(0, 2 * dim), 5);
      expect(res).toHaveLength(2);
      for (const r of res) expect(r).toEqual({ ids: [], scores: [] });
      expect(await contains(idx, 0)).toBe(false);
    });

    cases('k-larger-than-size', 'k larger than the size returns every vector, best first', async () => {
      const idx = await make();
      await idx.add([10, 11, 12], small.base.subarray(0, 3 * dim));
      const [r] = await idx.search(small.base.subarray(0, dim), 50);
      expect(r!.ids).toHaveLength(3);
      expect(r!.ids[0]).toBe(10);
      expect(r!.scores[0]).toBeCloseTo(1, 3);
      expectSorted(r!);
      for (const s of r!.scores) expect(s).toBeLessThanOrEqual(1 + 1e-3);
    });

    cases('dimension-mismatch', 'wrong dimensions are rejected with DimensionMismatchError', async () => {
      const idx = await make();
      await expect(idx.add([1], new Float32Array(dim + 1))).rejects.toBeInstanceOf(DimensionMismatchError);
      await expect(idx.add([1, 2], new Float32Array(dim * 2 + 2))).rejects.toBeInstanceOf(DimensionMismatchError);
      await idx.add([1], small.base.subarray(0, dim));
      await expect(idx.search(new Float32Array(dim - 1), 1)).rejects.toBeInstanceOf(DimensionMismatchError);
      expect(idx.size).toBe(1);
    });

    cases('invalid-vectors', 'NaN and Infinity are rejected with InvalidVectorError and nothing is added', async () => {
      const idx = await make();
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        const v = small.base.slice(0, 2 * dim);
        v[dim + 3] = bad;
        await expect(idx.add([1, 2], v)).rejects.toBeInstanceOf(InvalidVectorError);
        const q = small.queries.slice(0, dim);
        q[0] = bad;
        await expect(idx.search(q, 1)).rejects.toBeInstanceOf(InvalidVectorError);
      }
      expect(idx.size).toBe(0);
      expect(await contains(idx, 1)).toBe(false);
    });

    cases('invalid-ids', 'negative, fractional and unsafe ids and bad k are rejected', async () => {
      const idx = await make();
      const v = small.base.subarray(0, dim);
      for (const id of [-1, 1.5, Number.NaN, 2 ** 53, Infinity]) {
        await expect(idx.add([id], v)).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      await expect(idx.add([1, 2], v)).rejects.toThrow();
      await idx.add([1], v);
      for (const k of [0, -3, 1.5, Number.NaN]) await expect(idx.search(v, k)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(idx.size).toBe(1);
    });

    cases('upsert', 'adding an existing id replaces its vector (upsert)', async () => {
      const idx = await make();
      await idx.add([1, 2, 3], small.base.subarray(0, 3 * dim));
      await idx.add([2], small.base.subarray(10 * dim, 11 * dim));
      expect(idx.size).toBe(3);
      const [old] = await idx.search(small.base.subarray(dim, 2 * dim), 3);
      // The old vector of id 2 is gone: querying it must not find id 2 at score ≈ 1.
      const pos = old!.ids.indexOf(2);
      if (pos >= 0) expect(old!.scores[pos]!).toBeLessThan(0.999);
      const [fresh] = await idx.search(small.base.subarray(10 * dim, 11 * dim), 1);
      expect(fresh!.ids).toEqual([2]);
      expect(fresh!.scores[0]).toBeCloseTo(1, 2);
      const all = await idx.search(small.base.subarray(0, dim), 10);
      expect(new Set(all[0]!.ids).size).toBe(all[0]!.ids.length);
    });

    cases('remove', 'removed ids are never returned; unknown ids are ignored', async () => {
      const idx = await make();
      const ids = Array.from({ length: 100 }, (_, i) => i * 3);
      await idx.add(ids, small.base.subarray(0, 100 * dim));
      const removed = await idx.remove([0, 3, 6, 999_999]);
      expect(removed).toBe(3);
      expect(idx.size).toBe(97);
      expect(await contains(idx, 3)).toBe(false);
      expect(await contains(idx, 9)).toBe(true);
      const res = await idx.search(small.base.subarray(0, 3 * dim), 100);
      for (const r of res) {
        expect(r.ids).toHaveLength(97);
        for (const gone of [0, 3, 6]) expect(r.ids).not.toContain(gone);
        expectSorted(r);
      }
      // Re-adding a removed id works.
      await idx.add([3], small.base.subarray(dim, 2 * dim));
      const [again] = await idx.search(small.base.subarray(dim, 2 * dim), 1);
      expect(again!.ids).toEqual([3]);
      expect(await idx.remove(ids)).toBe(98);
      expect(idx.size).toBe(0);
      const [none] = await idx.search(small.base.subarray(0, dim), 5);
      expect(none!.ids).toEqual([]);
    });

    cases('save-load', 'save → load gives identical results, params and manifest', async () => {
      const idx = await make();
      const ids = Array.from({ length: 300 }, (_, i) => 1000 + i);
      await idx.add(ids, small.base);
      await idx.remove([1000, 1001]);
      const before = await idx.search(small.queries, 10);
      const out = path.join(dir, 'save-load');
      await asFiles(idx).save(out);
      const manifest = JSON.parse(await readFile(path.join(out, MANIFEST_FILE), 'utf8')) as IndexManifest;
      expect(manifest.count).toBe(298);
      expect(manifest.dimension).toBe(dim);
      expect(manifest.metric).toBe('cosine');
      const loaded = await load(out);
      opened.push(loaded);
      expect(loaded.backend).toBe(idx.backend);
      expect(loaded.size).toBe(298);
      expect(loaded.params).toEqual(idx.params);
      const after = await loaded.search(small.queries, 10);
      expect(after.map((r) => r.ids)).toEqual(before.map((r) => r.ids));
      for (let q = 0; q < before.length; q++) {
        for (let i = 0; i < before[q]!.scores.length; i++) expect(after[q]!.scores[i]!).toBeCloseTo(before[q]!.scores[i]!, 4);
      }
      // A loaded index stays writable and saving twice keeps one generation of files.
      await loaded.add([5], small.base.subarray(0, dim));
      expect(loaded.size).toBe(299);
      await asFiles(loaded).save(out);
      await asFiles(loaded).save(out);
      const files = (await readdir(out)).filter((f) => !f.startsWith('.'));
      expect(files.length).toBe(Object.keys(manifest.files).length + 1);
    });

    cases('corrupt-files', 'truncated or garbage index files give IndexCorruptError, never a crash', async () => {
      const idx = await make();
      await idx.add(
        Array.from({ length: 300 }, (_, i) => i),
        small.base,
      );
      const out = path.join(dir, 'corrupt-src');
      await asFiles(idx).save(out);
      const manifest = JSON.parse(await readFile(path.join(out, MANIFEST_FILE), 'utf8')) as IndexManifest;
      const variants: [string, (file: string, bytes: number) => Promise<void>][] = [
        ['truncated', (file, bytes) => truncate(file, Math.floor(bytes / 2))],
        ['truncated-to-8', (file) => truncate(file, 8)],
        ['garbage', (file, bytes) => writeFile(file, garbage(bytes))],
        ['empty', (file) => writeFile(file, Buffer.alloc(0))],
      ];
      for (const name of Object.keys(manifest.files)) {
        for (const [label, damage] of variants) {
          for (const fixManifest of [false, true]) {
            const target = path.join(dir, `corrupt-${name}-${label}-${fixManifest}`);
            await copyDir(out, target);
            const entry = manifest.files[name]!;
            const file = path.join(target, entry.file);
            await damage(file, entry.bytes);
            if (fixManifest) {
              // Make the manifest agree with the damaged file, so the backend itself must notice.
              const m = structuredClone(manifest);
              const { size } = await import('node:fs/promises').then((fs) => fs.stat(file));
              m.files[name] = { ...entry, bytes: size, sha256: await sha256File(file) };
              await writeFile(path.join(target, MANIFEST_FILE), JSON.stringify(m));
            }
            await expect(load(target), `${name} ${label} manifest-fixed=${fixManifest}`).rejects.toBeInstanceOf(IndexCorruptError);
          }
        }
      }
      const noManifest = path.join(dir, 'corrupt-no-manifest');
      await copyDir(out, noManifest);
      await writeFile(path.join(noManifest, MANIFEST_FILE), '{"format":"nope"');
      await expect(load(noManifest)).rejects.toBeInstanceOf(IndexCorruptError);
      await expect(load(path.join(dir, 'does-not-exist'))).rejects.toBeInstanceOf(IndexCorruptError);
    }, 120_000);

    cases('large-ids', 'ids ≥ 2^32 up to 2^53−1 round-trip through add, search, save and load', async () => {
      const idx = await make();
      const ids = [2 ** 32, 2 ** 32 + 7, 2 ** 40 + 123, Number.MAX_SAFE_INTEGER, 0, 2 ** 31 - 1];
      await idx.add(ids, small.base.subarray(0, ids.length * dim));
      for (let i = 0; i < ids.length; i++) {
        const [r] = await idx.search(small.base.subarray(i * dim, (i + 1) * dim), 1);
        expect(r!.ids).toEqual([ids[i]]);
      }
      expect(await contains(idx, 2 ** 32 + 7)).toBe(true);
      expect(await contains(idx, 7)).toBe(false);
      const out = path.join(dir, 'large-ids');
      await asFiles(idx).save(out);
      const loaded = await load(out);
      opened.push(loaded);
      const res = await loaded.search(small.base.subarray(0, ids.length * dim), ids.length);
      for (let i = 0; i < ids.length; i++) expect(res[i]!.ids[0]).toBe(ids[i]);
      expect(await loaded.remove([Number.MAX_SAFE_INTEGER])).toBe(1);
      expect(await contains(loaded, Number.MAX_SAFE_INTEGER)).toBe(false);
    });

    cases(
      'recall',
      'recall@10 ≥ 0.95 against exact search on 20k clustered 512-d unit vectors (default parameters)',
      async () => {
        const size = options.recallSize ?? { n: 20_000, dimension: 512, queries: 200 };
        const data = clusteredDataset(size.n, size.dimension, size.queries, 2024);
        const idx = await options.create({ dimension: size.dimension, metric: 'cosine' });
        opened.push(idx);
        const ids = Array.from({ length: size.n }, (_, i) => i * 2 + 1);
        await idx.add(ids, data.base);
        expect(idx.size).toBe(size.n);
        let truth: Neighbors[];
        let refName: string;
        if (options.reference) {
          const ref = await options.reference(size.dimension);
          opened.push(ref);
          await ref.add(ids, data.base);
          truth = await ref.search(data.queries, 10);
          refName = ref.backend;
        } else {
          truth = exactTopK(data.base, data.queries, size.dimension, 10).map((r) => ({ ids: r.ids.map((i) => i * 2 + 1), scores: r.scores }));
          refName = 'brute force';
        }
        const got = await idx.search(data.queries, 10, options.recallParams);
        // Returned scores must be the true similarities of the returned ids (the id map is right).
        for (let q = 0; q < got.length; q++) {
          expectSorted(got[q]!);
          for (let i = 0; i < got[q]!.ids.length; i++) {
            const row = (got[q]!.ids[i]! - 1) / 2;
            let s = 0;
            for (let j = 0; j < size.dimension; j++) s += data.base[row * size.dimension + j]! * data.queries[q * size.dimension + j]!;
            expect(Math.abs(s - got[q]!.scores[i]!)).toBeLessThanOrEqual(tol + 1e-5);
          }
        }
        const recall = recallAtK(got, truth, 10);
        console.log(`[conformance] ${options.name}: recall@10 = ${recall.toFixed(4)} vs ${refName} (${size.n}×${size.dimension}, ${size.queries} queries, params ${JSON.stringify({ ...idx.params, ...options.recallParams })})`);
        expect(recall).toBeGreaterThanOrEqual(options.minRecall ?? 0.95);
      },
      300_000,
    );

    cases('concurrent-search', 'many concurrent searches give the same answers as sequential ones', async () => {
      const idx = await make();
      await idx.add(
        Array.from({ length: 300 }, (_, i) => i),
        small.base,
      );
      const queries = Array.from({ length: 40 }, (_, i) => small.base.subarray((i % 300) * dim, ((i % 300) + 1) * dim));
      const sequential: Neighbors[][] = [];
      for (const q of queries) sequential.push(await idx.search(q, 7));
      const concurrent = await Promise.all(queries.map((q) => idx.search(q, 7)));
      expect(concurrent).toEqual(sequential);
      const batch = await idx.search(small.base.subarray(0, 40 * dim), 7);
      expect(batch.map((r) => r.ids)).toEqual(sequential.map((r) => r[0]!.ids));
    });

    cases('close', 'close() is idempotent and later calls throw ClosedError', async () => {
      const idx = await options.create({ dimension: dim, metric: 'cosine' });
      await idx.add([1], small.base.subarray(0, dim));
      await idx.close();
      await idx.close();
      await expect(idx.search(small.base.subarray(0, dim), 1)).rejects.toBeInstanceOf(ClosedError);
      await expect(idx.add([2], small.base.subarray(0, dim))).rejects.toBeInstanceOf(ClosedError);
    });

    cases('l2-metric', 'the l2 metric ranks by Euclidean distance, scores = −squared distance', async () => {
      const idx = await make('l2');
      expect(idx.metric).toBe('l2');
      const pts = new Float32Array(4 * dim);
      for (let i = 0; i < 4; i++) pts[i * dim] = i * 2; // points at 0, 2, 4, 6 on axis 0 (not normalised)
      await idx.add([0, 1, 2, 3], pts);
      const q = new Float32Array(dim);
      q[0] = 4.5;
      const [r] = await idx.search(q, 4);
      expect(r!.ids).toEqual([2, 3, 1, 0]);
      expect(r!.scores[0]).toBeCloseTo(-0.25, 3);
      expect(r!.scores[1]).toBeCloseTo(-2.25, 3);
    });
  });
}

/** True when `id` is among the index's vectors (a search with k = size returns them all). */
async function contains(idx: VectorIndex, id: number): Promise<boolean> {
  if (idx.size === 0) return false;
  const q = new Float32Array(idx.dimension);
  q[0] = 1;
  const [r] = await idx.search(q, idx.size);
  return r!.ids.includes(id);
}

/** The index as a `files` index (the save/load cases). */
function asFiles(idx: VectorIndex): FileVectorIndex {
  if (idx.persistence !== 'files') throw new Error(`${idx.backend} keeps its index in a server: it has no save(dir)`);
  return idx;
}

function expectSorted(r: Neighbors): void {
  expect(r.scores.length).toBe(r.ids.length);
  for (let i = 1; i < r.scores.length; i++) expect(r.scores[i]!).toBeLessThanOrEqual(r.scores[i - 1]! + 1e-6);
}

function garbage(bytes: number): Buffer {
  const b = Buffer.alloc(Math.max(bytes, 64));
  let x = 12345;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function copyDir(from: string, to: string): Promise<void> {
  const { cp } = await import('node:fs/promises');
  await cp(from, to, { recursive: true });
}
