import { describe, expect, it } from 'vitest';
import { checkIds, checkK, checkVectors, DimensionMismatchError, InvalidArgumentError, InvalidVectorError, normalizeRows } from '../src/index.js';
import { clusteredDataset, exactTopK, recallAtK } from '../src/testing/datasets.js';

describe('input checks', () => {
  it('accepts well-formed batches and reports their row count', () => {
    expect(checkVectors(new Float32Array(12), 4)).toBe(3);
    expect(checkVectors(new Float32Array(12), 4, 3)).toBe(3);
  });
  it('rejects wrong dimensions, non-finite values, bad ids and bad k', () => {
    expect(() => checkVectors(new Float32Array(5), 4)).toThrow(DimensionMismatchError);
    expect(() => checkVectors(new Float32Array(10), 4, 2)).toThrow(DimensionMismatchError);
    expect(() => checkVectors(new Float32Array([1, Number.NaN]), 2)).toThrow(InvalidVectorError);
    expect(() => checkVectors(new Float32Array([Infinity, 0]), 2)).toThrow(InvalidVectorError);
    expect(() => checkVectors([1, 2] as unknown as Float32Array, 2)).toThrow(InvalidArgumentError);
    expect(() => checkIds([0, 2 ** 53 - 1])).not.toThrow();
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN]) expect(() => checkIds([bad])).toThrow(InvalidArgumentError);
    expect(() => checkK(0)).toThrow(InvalidArgumentError);
    expect(() => checkK(2.5)).toThrow(InvalidArgumentError);
  });
  it('normalises rows in place and leaves zero rows alone', () => {
    const v = normalizeRows(new Float32Array([3, 4, 0, 0]), 2);
    expect(Array.from(v)).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
  });
});

describe('clustered datasets', () => {
  it('are seeded, unit-norm and not uniform noise', () => {
    const a = clusteredDataset(500, 32, 20, 1);
    const b = clusteredDataset(500, 32, 20, 1);
    expect(a.base).toEqual(b.base);
    expect(clusteredDataset(500, 32, 20, 2).base).not.toEqual(a.base);
    for (let i = 0; i < 500; i++) {
      let s = 0;
      for (let j = 0; j < 32; j++) s += a.base[i * 32 + j]! ** 2;
      expect(s).toBeCloseTo(1, 4);
    }
    // Clustered: a query's nearest neighbour is much closer than for isotropic noise (~0.5 at d=32, n=500).
    const top = exactTopK(a.base, a.queries, 32, 1);
    const mean = top.reduce((s, r) => s + r.scores[0]!, 0) / top.length;
    expect(mean).toBeGreaterThan(0.7);
  });
  it('recall@k counts ties within the tolerance', () => {
    const truth = [{ scores: [0.9, 0.8] }];
    expect(recallAtK([{ scores: [0.9, 0.8] }], truth, 2)).toBe(1);
    expect(recallAtK([{ scores: [0.9, 0.5] }], truth, 2)).toBe(0.5);
    expect(recallAtK([{ scores: [0.8, 0.7995] }], truth, 2)).toBe(1);
  });
});
