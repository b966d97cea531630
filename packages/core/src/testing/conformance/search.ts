// Conformance topic: searching — empty indexes, k beyond the size, the l2 metric, concurrency.
import { expect } from 'vitest';
import type { Neighbors } from '../../vector-index.js';
import { contains, expectSorted, requires, type Suite } from './suite.js';

export function searchCases(s: Suite): void {
  const { dim } = s;

  s.test('empty', 'an empty index has size 0 and returns no neighbours', async () => {
    const idx = await s.make();
    expect(idx.size).toBe(0);
    expect(idx.dimension).toBe(dim);
    expect(idx.metric).toBe('cosine');
    const res = await idx.search(s.small().queries.subarray(0, 2 * dim), 5);
    expect(res).toHaveLength(2);
    for (const r of res) expect(r).toEqual({ ids: [], scores: [] });
    expect(await contains(idx, 0)).toBe(false);
  });

  s.test('k-larger-than-size', 'k larger than the size returns every vector, best first', async () => {
    const idx = await s.make();
    const { base } = s.small();
    await idx.add([10, 11, 12], base.subarray(0, 3 * dim));
    const [r] = await idx.search(base.subarray(0, dim), 50);
    expect(r!.ids).toHaveLength(3);
    expect(r!.ids[0]).toBe(10);
    expect(r!.scores[0]).toBeCloseTo(1, 3);
    expectSorted(r!);
    for (const x of r!.scores) expect(x).toBeLessThanOrEqual(1 + 1e-3);
  });

  s.test(
    'l2-metric',
    'the l2 metric ranks by Euclidean distance, scores = −squared distance',
    async () => {
      const idx = await s.make('l2');
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
    },
    { requires: requires.l2 },
  );

  s.test('concurrent-search', 'many concurrent searches give the same answers as sequential ones', async () => {
    const idx = await s.make();
    const { base } = s.small();
    await idx.add(
      Array.from({ length: 300 }, (_, i) => i),
      base,
    );
    const queries = Array.from({ length: 40 }, (_, i) => base.subarray((i % 300) * dim, ((i % 300) + 1) * dim));
    const sequential: Neighbors[][] = [];
    for (const q of queries) sequential.push(await idx.search(q, 7));
    const concurrent = await Promise.all(queries.map((q) => idx.search(q, 7)));
    expect(concurrent).toEqual(sequential);
    const batch = await idx.search(base.subarray(0, 40 * dim), 7);
    expect(batch.map((r) => r.ids)).toEqual(sequential.map((r) => r[0]!.ids));
  });
}
