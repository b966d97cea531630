// Conformance topic: result quality — recall@10 against exact search, and true scores for the returned ids.
import { expect } from 'vitest';
import type { Neighbors } from '../../vector-index.js';
import { clusteredDataset, exactTopK, recallAtK } from '../datasets.js';
import { expectSorted, type Suite } from './suite.js';

export function qualityCases(s: Suite): void {
  const { options } = s;
  const tol = options.scoreTolerance ?? 1e-4;
  s.test(
    'recall',
    'recall@10 ≥ 0.95 against exact search on 20k clustered 512-d unit vectors (default parameters)',
    async () => {
      const size = options.recallSize ?? { n: 20_000, dimension: 512, queries: 200 };
      const data = clusteredDataset(size.n, size.dimension, size.queries, 2024);
      const idx = s.track(await options.create({ dimension: size.dimension, metric: 'cosine' }));
      const ids = Array.from({ length: size.n }, (_, i) => i * 2 + 1);
      await idx.add(ids, data.base);
      expect(idx.size).toBe(size.n);
      let truth: Neighbors[];
      let refName: string;
      if (options.reference) {
        const ref = s.track(await options.reference(size.dimension));
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
          let dot = 0;
          for (let j = 0; j < size.dimension; j++) dot += data.base[row * size.dimension + j]! * data.queries[q * size.dimension + j]!;
          expect(Math.abs(dot - got[q]!.scores[i]!)).toBeLessThanOrEqual(tol + 1e-5);
        }
      }
      const recall = recallAtK(got, truth, 10);
      console.log(
        `[conformance] ${options.name}: recall@10 = ${recall.toFixed(4)} vs ${refName} (${size.n}×${size.dimension}, ${size.queries} queries, params ${JSON.stringify({ ...idx.params, ...options.recallParams })})`,
      );
      expect(recall).toBeGreaterThanOrEqual(options.minRecall ?? 0.95);
      if (idx.capabilities.exact) expect(recall).toBe(1);
    },
    { timeout: 300_000 },
  );
}
