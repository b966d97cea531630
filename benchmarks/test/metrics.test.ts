import { describe, expect, it } from 'vitest';
import type { GroundTruth } from '../src/datasets/store.js';
import { percentile, recallAtK, summarizeLatencies } from '../src/metrics.js';
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
