import { describe, expect, it } from 'vitest';
import type { GroundTruth } from '../src/datasets/store.js';
import { hitHistogram, percentile, recallAtK, spreadOf, strictHitsPerQuery, strictRecallAtK, summarizeLatencies } from '../src/metrics.js';
import { bestQpsAtRecall, paretoFrontier } from '../src/pareto.js';

// Base vectors on the 2-d unit circle; one query at angle 0.
const d = 2;
const angles = [0, 0.1, 0.2, 0.3, -0.3, 1.0];
const base = Float32Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)]));
const queries = Float32Array.from([1, 0]);
const score = (i: number): number => Math.cos(angles[i]!);
const gt: GroundTruth = { k: 3, ids: Int32Array.from([0, 1, 2]), scores: Float32Array.from([score(0), score(1), score(2)]) };

describe('recall (ann-benchmarks definition)', () => {
  it('counts returned ids within epsilon of the true k-th score', () => {
    expect(recallAtK([[0, 1, 2]], gt, base, queries, d, 3)).toBe(1);
    expect(recallAtK([[0, 1, 5]], gt, base, queries, d, 3)).toBeCloseTo(2 / 3);
    expect(recallAtK([[0]], gt, base, queries, d, 1)).toBe(1);
    expect(recallAtK([[1]], gt, base, queries, d, 1)).toBe(0);
  });

  it('does not penalise a tie at the k-th place', () => {
    // Vector 3 at angle 0.3 and vector 4 at −0.3 score the same: either is a correct 4th.
    const gt4: GroundTruth = { k: 4, ids: Int32Array.from([0, 1, 2, 3]), scores: Float32Array.from([score(0), score(1), score(2), score(3)]) };
    expect(recallAtK([[0, 1, 2, 4]], gt4, base, queries, d, 4)).toBe(1);
  });

  it('ignores duplicates, invalid ids and penalises missing results', () => {
    expect(recallAtK([[0, 0, 0]], gt, base, queries, d, 3)).toBeCloseTo(1 / 3);
    expect(recallAtK([[0, -1, 99]], gt, base, queries, d, 3)).toBeCloseTo(1 / 3);
    expect(recallAtK([[0, 1]], gt, base, queries, d, 3)).toBeCloseTo(2 / 3);
  });

  it('refuses k deeper than the ground truth', () => {
    expect(() => recallAtK([[0]], gt, base, queries, d, 10)).toThrow(RangeError);
  });
});

describe('strict recall and its distribution', () => {
  // Ground truth for 3 queries, k = 3 (ids only matter for strict recall).
  const gt3 = { k: 3, ids: Int32Array.from([0, 1, 2, 5, 6, 7, 9, 8, 4]), scores: new Float32Array(9) };

  it('counts the exact top-k ids returned, with no credit for near-ties', () => {
    expect(strictRecallAtK([[0, 1, 2], [5, 6, 7], [9, 8, 4]], gt3, 3)).toBe(1);
    // Order does not matter, duplicates and strangers do not count.
    expect(strictRecallAtK([[2, 1, 0], [5, 5, 5], [1, 2, 3]], gt3, 3)).toBeCloseTo((3 + 1 + 0) / 9);
    expect(Array.from(strictHitsPerQuery([[2, 1, 0], [5, 5, 5], [1, 2, 3]], gt3, 3))).toEqual([3, 1, 0]);
    // Fewer results than k are penalised.
    expect(strictRecallAtK([[0], [5, 6], [9, 8, 4]], gt3, 3)).toBeCloseTo((1 + 2 + 3) / 9);
    expect(strictRecallAtK([[1, 0], [5], [9]], gt3, 1)).toBeCloseTo(2 / 3);
  });

  it('is stricter than the ann-benchmarks tolerance on ties', () => {
    // Base rows 0 and 3 are identical: returning 3 instead of 0 is a tie for ann-b, a miss for strict.
    const tieBase = Float32Array.from([1, 0, 0.6, 0.8, 0, 1, 1, 0]);
    const q = Float32Array.from([1, 0]);
    const g = { k: 1, ids: Int32Array.from([0]), scores: Float32Array.from([1]) };
    expect(recallAtK([[3]], g, tieBase, q, 2, 1)).toBe(1);
    expect(strictRecallAtK([[3]], g, 1)).toBe(0);
  });

  it('histograms hits per query and summarises spread', () => {
    expect(hitHistogram(Int32Array.from([0, 10, 10, 8, 0]), 10)).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    expect(spreadOf([1.1, 0.9, 1.0, 1.3, 1.05])).toMatchObject({ median: 1.05, min: 0.9, max: 1.3, n: 5 });
  });
});

describe('latency summaries', () => {
  it('interpolates percentiles like NumPy', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(v, 50)).toBeCloseTo(5.5);
    expect(percentile(v, 99)).toBeCloseTo(9.91);
    expect(percentile([], 50)).toBeNaN();
    expect(summarizeLatencies(v)).toMatchObject({ mean: 5.5 });
  });
});

describe('Pareto frontier', () => {
  it('keeps the points nothing beats on both recall and QPS', () => {
    const pts = [
      { recall: 0.5, qps: 1000, data: 'a' },
      { recall: 0.8, qps: 900, data: 'b' },
      { recall: 0.7, qps: 500, data: 'dominated' },
      { recall: 0.99, qps: 100, data: 'c' },
      { recall: 0.9, qps: Number.NaN, data: 'broken' },
    ];
    expect(paretoFrontier(pts).map((p) => p.data)).toEqual(['a', 'b', 'c']);
    expect(bestQpsAtRecall(pts, 0.75)?.data).toBe('b');
    expect(bestQpsAtRecall(pts, 0.999)).toBeUndefined();
  });
});
